import { execFile } from 'node:child_process';
import { nodeArgs } from '../support/compiled';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../support/test-server';

let t: TestServer;
beforeAll(async () => { t = await startTestServer('cli'); });
afterAll(() => t.close());

/** Runs the CLI without blocking this process (a blocked event loop would let the test server's idle sockets go stale). */
function cli(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...nodeArgs('src/cli.ts'), ...args], {
      cwd: join(__dirname, '..', '..'),
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: t.databaseUrl, SECRET_KEY: t.secretKey, MIGRATIONS_RUN: 'false' },
      encoding: 'utf8',
    }, (error, stdout, stderr) => resolve({ status: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }));
  });
}

test('`cli apikey create` prints a working key once; `apikey revoke` stops it', async () => {
  const created = await cli('apikey', 'create', '--user', 'admin@countersign.local', '--name', 'partner', '--expires-in-days', '30');
  expect(created.status).toBe(0);
  const key = created.stdout.trim();
  expect(key).toMatch(/^cs_[0-9a-f]{8}_[\w-]{43}$/);
  expect(created.stderr).toMatch(/Store it now/);
  expect((await t.gql('{ me { email } }', {}, { key })).body.data.me.email).toBe('admin@countersign.local');

  const [{ id }] = await t.sql('SELECT id FROM api_keys WHERE prefix = $1', [key.slice(0, 11)]);
  const revoked = await cli('apikey', 'revoke', id);
  expect(revoked.status).toBe(0);
  expect((await t.gql('{ me { email } }', {}, { key })).body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
});

test('`cli apikey create` for an unknown user fails with a clear message and writes nothing', async () => {
  const before = await t.sql('SELECT count(*)::int AS n FROM api_keys');
  const result = await cli('apikey', 'create', '--user', 'ghost@example.com', '--name', 'x');
  expect(result.status).toBe(1);
  expect(result.stderr.trim()).toBe('No user has the email ghost@example.com.');
  expect(await t.sql('SELECT count(*)::int AS n FROM api_keys')).toEqual(before);
});
