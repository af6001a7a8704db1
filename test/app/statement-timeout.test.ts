import { STATEMENT_TIMEOUT_MESSAGE } from '../../src/app/errors';
import { MAX_FILTERS } from '../../src/records/record.query';
import { until } from '../support/poll';
import { startTestServer, type TestServer } from '../support/test-server';

/**
 * DB_STATEMENT_TIMEOUT_MS bounds every statement of a request. The proof goes through the real API: a server with a
 * 250 ms timeout, a table big enough that a legal query (50 filters, within the caps and the cost) needs seconds, and
 * the answer: a clean TIMEOUT error quickly, Postgres no longer working on it, and the server still serving.
 */
const TIMEOUT_MS = 250;
const ROWS = 20_000; // 50 matching 200-character CONTAINS filters over 20,000 rows take about 3 s on the 2-core machine

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer('statement_timeout', { DB_STATEMENT_TIMEOUT_MS: String(TIMEOUT_MS) });
  await t.sql(`INSERT INTO records (module, label, fields, owner_id)
    SELECT 'Contacts', 'Heavy ' || g, jsonb_build_object('lastName', 'Heavy ' || g, 'title', repeat('a', 255)), '00000000-0000-4000-8000-000000000001'
    FROM generate_series(1, ${ROWS}) g`);
});
afterAll(() => t.close());

const HEAVY = 'query($w: [RecordFilterInput!]) { records(module: "Contacts", where: $w, first: 1) { totalCount } }';
const heavyFilters = Array.from({ length: MAX_FILTERS }, () => ({ field: 'title', operator: 'CONTAINS', value: 'a'.repeat(200) }));

describe('attacker: a legal query that would hold Postgres for seconds', () => {
  test('the pool connections carry the configured statement timeout', async () => {
    expect(await t.app.db.dataSource.query('SHOW statement_timeout')).toEqual([{ statement_timeout: `${TIMEOUT_MS}ms` }]);
  });

  test('it answers a clean TIMEOUT error within a bounded time, Postgres stops working on it, and the server keeps serving', async () => {
    const started = Date.now();
    const res = await t.gql(HEAVY, { w: heavyFilters });
    const elapsed = Date.now() - started;
    expect(res.status).toBe(200);
    expect(res.body.data).toBeNull();
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors[0]).toMatchObject({ message: STATEMENT_TIMEOUT_MESSAGE, extensions: { code: 'TIMEOUT' } });
    expect(res.body.errors[0].path[0]).toBe('records');
    expect(JSON.stringify(res.body)).not.toMatch(/canceling statement|statement timeout|ILIKE|stacktrace/i);
    expect(elapsed).toBeLessThan(2000);

    // Postgres really stopped (no statement of the server still running on the records table)
    await until('the cancelled statement to leave pg_stat_activity', async () => (await t.sql(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND application_name = 'countersign' AND query ILIKE '%FROM records%'`,
    ))[0].n === 0, 2000);

    const light = await t.gql('{ records(module: "Contacts", first: 2, where: [{ field: "lastName", operator: EQUALS, value: "Heavy 7" }]) { nodes { label } } }');
    expect(light.body).toEqual({ data: { records: { nodes: [{ label: 'Heavy 7' }] } } });
  });
});
