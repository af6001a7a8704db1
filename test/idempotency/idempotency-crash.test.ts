import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort } from '../support/global-setup';
import { until } from '../support/poll';
import { spawnServer, type ServerProcess } from '../support/process';
import { startTestServer, type TestServer } from '../support/test-server';
import { CREATE_RECORD, idempotent } from './idempotency-helpers';

// A process that dies while it holds a key must not block that key forever: the key stays "in use" for the lock
// timeout (IDEMPOTENCY_LOCK_TIMEOUT_SECONDS, 60 s by default), then a retry — on any instance — runs the request.
let t: TestServer;
let child: ServerProcess | null = null;
beforeAll(async () => {
  t = await startTestServer('idempotency_crash');
});
afterAll(async () => {
  if (child && child.child.exitCode === null && child.child.signalCode === null) child.child.kill('SIGKILL');
  await t.close();
});

describe('a server killed while it runs a request with a key', () => {
  test('the key is IN_USE until the lock timeout, then a retry through another instance creates exactly one record', async () => {
    const port = await freePort();
    child = spawnServer({
      NODE_ENV: 'test', HOST: '127.0.0.1', PORT: String(port), DATABASE_URL: t.databaseUrl, ADMIN_API_KEY: t.adminKey, SECRET_KEY: t.secretKey,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'countersign-idem-crash-')), OTP_WORKER: 'false', DB_POOL_SIZE: '3', MIGRATIONS_RUN: 'false',
    });
    const childUrl = `http://127.0.0.1:${port}`;
    await until('the second instance is ready', () => fetch(`${childUrl}/readyz`).then((r) => r.ok, () => false), 60_000);

    const key = randomUUID();
    const lastName = `Crash ${randomUUID()}`;
    const variables = { module: 'Contacts', fields: { lastName }, key };
    // hold writes to records, so the request is inside its work when the process dies
    const lock = new Client({ connectionString: t.databaseUrl });
    await lock.connect();
    await lock.query('BEGIN');
    await lock.query('LOCK TABLE records IN EXCLUSIVE MODE');
    const dying = fetch(`${childUrl}/graphql`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${t.adminKey}` },
      body: JSON.stringify({ query: CREATE_RECORD, variables }),
    }).catch(() => null);
    await until('the key RUNNING', async () => (await t.sql("SELECT 1 FROM idempotency_keys WHERE key = $1 AND state = 'RUNNING'", [key])).length > 0, 10_000);
    child.child.kill('SIGKILL');
    await child.exited;
    await dying;
    // the dead process's database sessions go too (as TCP keepalive would end them), then the lock is released
    await t.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name <> 'countersign-counters' AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'");
    await lock.query('COMMIT');
    await lock.end();

    const blocked = await idempotent(t, CREATE_RECORD, 'createRecord', 'record', variables);
    expect(blocked.errors).toEqual([expect.objectContaining({ code: 'IDEMPOTENCY_KEY_IN_USE', retryAfterSeconds: expect.any(Number) })]);
    expect(blocked.errors[0].retryAfterSeconds).toBeLessThanOrEqual(60);

    t.app.services.clock.advance(61_000);
    const retried = await idempotent(t, CREATE_RECORD, 'createRecord', 'record', variables);
    expect(retried).toMatchObject({ id: expect.any(String), errors: [], userErrors: [] });
    expect(await t.sql("SELECT id FROM records WHERE fields->>'lastName' = $1", [lastName])).toEqual([{ id: retried.id }]);
    expect(await idempotent(t, CREATE_RECORD, 'createRecord', 'record', variables)).toMatchObject({ id: retried.id });
  }, 90_000);
});
