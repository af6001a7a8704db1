import { createRecord, updateRecord } from '../support/api';
import { until } from '../support/poll';
import { startTestServer, type TestServer } from '../support/test-server';

/**
 * DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: a transaction the server left open and idle (a hung request, a bug, a client of
 * the pool that never committed) would hold its row locks for ever — on a record every later save of it waits for,
 * on the shared rate-limit rows every send waits for. Postgres ends it after the timeout; these tests hold such a
 * transaction on one of the server's own pool connections and watch a real save that needs its lock.
 */
const TIMEOUT_MS = 400;

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer('idle_in_transaction', { DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: String(TIMEOUT_MS) });
});
afterAll(() => t.close());

describe('fault: a transaction of the server left open and idle while holding a record\'s lock', () => {
  test('the pool connections carry the configured timeout', async () => {
    expect(await t.app.db.dataSource.query('SHOW idle_in_transaction_session_timeout')).toEqual([{ idle_in_transaction_session_timeout: `${TIMEOUT_MS}ms` }]);
  });

  test('Postgres ends it: the save waiting for the lock goes through, what the stuck transaction wrote is not kept, and the server keeps serving', async () => {
    const lead = await createRecord(t, 'Leads', { lastName: 'Stuck' });
    const stuck = t.app.db.dataSource.createQueryRunner();
    await stuck.connect();
    await stuck.startTransaction();
    await stuck.query(`UPDATE records SET fields = fields || '{"company":"Never committed"}' WHERE id = $1`, [lead.id]);
    const stuckPid = (await stuck.query('SELECT pg_backend_pid() AS pid'))[0].pid as number;
    // ...and now it idles, holding the row lock

    const saved = await updateRecord(t, lead.id, { company: 'Saved after the stuck transaction ended' });
    expect(saved.userErrors).toEqual([]);
    expect(saved.record).toMatchObject({ version: 2, fields: expect.objectContaining({ company: 'Saved after the stuck transaction ended' }) });
    const [row] = await t.sql('SELECT version, fields->>\'company\' AS company FROM records WHERE id = $1', [lead.id]);
    expect(row).toEqual({ version: 2, company: 'Saved after the stuck transaction ended' });

    // the stuck connection was ended by Postgres, not left behind
    await until('the stuck backend to be gone', async () => (await t.sql('SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1', [stuckPid]))[0].n === 0, 5_000);
    await expect(stuck.query('SELECT 1')).rejects.toThrow();
    await stuck.release().catch(() => undefined);

    // the server still answers, with more requests at once than the pool had connections before
    const reads = await Promise.all(Array.from({ length: 20 }, () => t.gql('query($id: ID!) { record(id: $id) { version } }', { id: lead.id })));
    expect(reads.map((r) => r.body)).toEqual(Array.from({ length: 20 }, () => ({ data: { record: { version: 2 } } })));
  });

  test('a transaction that keeps working is not ended (only idleness counts)', async () => {
    const runner = t.app.db.dataSource.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    // one statement running longer than the timeout: the transaction is active, not idle
    await runner.query(`SELECT pg_sleep(${(TIMEOUT_MS * 2) / 1000})`);
    await runner.query('SELECT 1');
    await runner.commitTransaction();
    await runner.release();
  });
});
