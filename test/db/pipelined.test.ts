import { Pool } from 'pg';
import { PipelineError, runPipelined } from '../../src/db/pipelined-sql';
import { until } from '../support/poll';
import { createTestDatabase } from '../support/test-database';

/**
 * runPipelined against a real Postgres, on a pool of one connection so every message shares its prepared statements
 * and its transaction state: what the send path relies on (statements prepared once, `first` committed on its own, a
 * failure leaving the connection clean and telling whether `first` had committed).
 */
let database: { url: string; drop(): Promise<void> };
let pool: Pool;

beforeAll(async () => {
  database = await createTestDatabase('pipelined', { migrated: false });
  pool = new Pool({ connectionString: database.url, max: 1 });
  await pool.query('CREATE TABLE counters (key text PRIMARY KEY, n int NOT NULL)');
  await pool.query('CREATE TABLE items (id int PRIMARY KEY, label text)');
});
afterAll(async () => {
  await pool.end();
  await database.drop();
});

const bump = (key: string) => ({ sql: 'INSERT INTO counters (key, n) VALUES ($1, 1) ON CONFLICT (key) DO UPDATE SET n = counters.n + 1 RETURNING n', params: [key] });
const item = (id: number, label: string | null) => ({ sql: 'INSERT INTO items (id, label) VALUES ($1, $2) RETURNING id, label', params: [id, label] });
const prepared = async () => (await pool.query(`SELECT name FROM pg_prepared_statements WHERE starts_with(name, 'cs_') ORDER BY name`)).rows.map((r) => r.name);
const count = async (key: string) => (await pool.query('SELECT n FROM counters WHERE key = $1', [key])).rows[0]?.n ?? 0;

describe('statements are prepared once per connection and answered in order', () => {
  test('the first message prepares, the next ones only EXECUTE; results are those of `then`, one per statement', async () => {
    const first = await runPipelined(pool, { first: [bump('a')], then: [item(1, "it's"), item(2, null)] });
    expect(first.map((r) => r.rows[0])).toEqual([{ id: 1, label: "it's" }, { id: 2, label: null }]);
    expect(await prepared()).toHaveLength(2);
    const second = await runPipelined(pool, { first: [bump('a')], then: [item(3, 'x')] });
    expect(second.map((r) => r.rows[0])).toEqual([{ id: 3, label: 'x' }]);
    expect(await prepared()).toHaveLength(2);
    expect(await count('a')).toBe(2);
  });
});

describe('attacker: failures halfway through a message', () => {
  test('`then` fails after `first` committed: first\'s change stays and the error says so; then\'s writes are gone', async () => {
    const failure = await runPipelined(pool, { first: [bump('b')], then: [item(10, 'kept?'), item(1, 'duplicate id')] }).catch((e) => e);
    expect(failure).toBeInstanceOf(PipelineError);
    expect(failure.firstCommitted).toBe(true);
    expect(String(failure.cause.message)).toMatch(/duplicate key/);
    expect(await count('b')).toBe(1);
    expect((await pool.query('SELECT count(*)::int AS n FROM items WHERE id = 10')).rows).toEqual([{ n: 0 }]);
  });

  test('`first` fails: nothing of the message stays, the connection is not left in a failed transaction, onError runs on it', async () => {
    const failing = { sql: 'SELECT CAST($1 AS int)', params: ['not a number'] };
    const failure = await runPipelined(pool, { first: [bump('c'), failing], then: [item(20, 'no')], onError: { sql: 'SELECT $1::text AS said', params: ['after'] } }).catch((e) => e);
    expect(failure).toBeInstanceOf(PipelineError);
    expect(failure.firstCommitted).toBe(false);
    expect(failure.onErrorRows).toEqual([{ said: 'after' }]);
    expect(await count('c')).toBe(0);
    expect((await pool.query('SELECT count(*)::int AS n FROM items WHERE id = 20')).rows).toEqual([{ n: 0 }]);
    // the one connection works normally afterwards (a failed block left open would refuse this)
    expect((await pool.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
  });

  test('a message that failed before its later PREPAREs ran: the next message prepares them again instead of EXECUTEing nothing', async () => {
    const fresh = { sql: 'INSERT INTO items (id, label) VALUES ($1, $2 || \' (fresh)\') RETURNING label', params: [31, 'b'] };
    const failure = await runPipelined(pool, { then: [item(1, 'duplicate first'), fresh] }).catch((e) => e);
    expect(failure).toBeInstanceOf(PipelineError);
    const [result] = await runPipelined(pool, { then: [fresh] });
    expect(result.rows).toEqual([{ label: 'b (fresh)' }]);
  });
});

describe('attacker (or a rolling deploy): another instance\'s migration changes a table under the prepared statements', () => {
  test('a column added to a table a prepared statement reads with *: the statement fails once, the connection is replaced, and the same message then runs', async () => {
    await pool.query('CREATE TABLE widgets (id int PRIMARY KEY)');
    const insert = (id: number) => ({ sql: 'INSERT INTO widgets (id) VALUES ($1) RETURNING *', params: [id] });
    expect((await runPipelined(pool, { then: [insert(1)] }))[0].rows).toEqual([{ id: 1 }]);
    const before = (await pool.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    await pool.query('ALTER TABLE widgets ADD COLUMN colour text');
    const failure = await runPipelined(pool, { then: [insert(2)] }).catch((e) => e);
    expect(failure).toBeInstanceOf(PipelineError);
    expect(failure.stalePlan).toBe(true);
    expect((await pool.query('SELECT pg_backend_pid() AS pid')).rows[0].pid).not.toBe(before); // a fresh connection
    expect((await runPipelined(pool, { then: [insert(2)] }))[0].rows).toEqual([{ id: 2, colour: null }]);
  });
});

describe('fault: Postgres ends the connection while a message runs (restart, failover, pg_terminate_backend)', () => {
  test('the message fails with the driver\'s error, the process lives on, and the pool answers on a fresh connection', async () => {
    const own = new Pool({ connectionString: database.url, max: 1 });
    const watcher = new Pool({ connectionString: database.url, max: 1 });
    try {
      const [{ pid }] = (await own.query('SELECT pg_backend_pid() AS pid')).rows;
      const running = runPipelined(own, { then: [{ sql: 'SELECT pg_sleep($1)', params: [30] }] }).then(() => 'answered', (error: unknown) => error);
      await until('the message to be running', async () => (await watcher.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1 AND state = 'active'`, [pid])).rows[0].n === 1, 5_000);
      await watcher.query('SELECT pg_terminate_backend($1)', [pid]);
      const outcome = await running;
      expect(outcome).toBeInstanceOf(PipelineError);
      expect(String((outcome as PipelineError).message)).toMatch(/terminat/i);
      // the broken connection was not given back for reuse: the next message gets a new backend
      const [{ pid: next }] = (await own.query('SELECT pg_backend_pid() AS pid')).rows;
      expect(next).not.toBe(pid);
      const [answer] = await runPipelined(own, { then: [{ sql: 'SELECT $1::int AS n', params: [7] }] });
      expect(answer.rows).toEqual([{ n: 7 }]);
    } finally {
      await own.end();
      await watcher.end();
    }
  });
});
