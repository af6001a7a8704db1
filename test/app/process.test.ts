import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnServer } from '../support/process';
import { freePort } from '../support/global-setup';
import { createTestDatabase } from '../support/test-database';

const modulesQuery = JSON.stringify({ query: '{ modules { name } }' });

async function askModules(port: number, key: string) {
  const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: modulesQuery,
  });
  return ((await res.json()) as any).data?.modules?.map((m: { name: string }) => m.name);
}

test('with no DATABASE_URL it starts on the embedded Postgres, prints the URLs and a first admin key, and comes back after kill -9', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'countersign-embedded-'));
  const env = { DATA_DIR: dataDir, PORT: String(await freePort()), EMBEDDED_PG_PORT: String(await freePort()), HOST: '127.0.0.1' };

  const first = spawnServer(env);
  const [, key] = await first.waitFor(/Admin API key \(shown once; store it now\): (cs_\S+)/);
  expect(first.output()).toContain(`GraphQL endpoint: http://127.0.0.1:${env.PORT}/graphql`);
  expect(first.output()).toContain(`Explorer:         http://127.0.0.1:${env.PORT}/graphql`);
  expect(await askModules(Number(env.PORT), key)).toContain('Contacts');
  const jsonLog = first.output().split('\n').filter((l) => l.startsWith('{')).join('\n');
  expect(jsonLog).not.toContain(key);

  first.child.kill('SIGKILL');
  await first.exited;
  const pidFile = join(dataDir, 'postgres', 'pgdata', 'postmaster.pid');
  expect(existsSync(pidFile)).toBe(true); // the orphaned postmaster still holds the data directory

  const second = spawnServer(env);
  await second.waitFor(/GraphQL endpoint/);
  expect(second.output()).not.toContain('Admin API key');
  expect(await askModules(Number(env.PORT), key)).toContain('Contacts'); // data kept across restarts

  second.child.kill('SIGTERM');
  expect(await second.exited).toEqual({ code: 0, signal: null });
  expect(existsSync(pidFile)).toBe(false); // the embedded Postgres was stopped with the server
  // mkdtemp made DATA_DIR 0700: as root the postgres user cannot enter it, and its mode is left alone (SPEC §10);
  // the cluster then lives in a folder that user can reach, linked as DATA_DIR/postgres/pgdata.
  expect(statSync(dataDir).mode & 0o777).toBe(0o700);
  rmSync(realpathSync(join(dataDir, 'postgres', 'pgdata')), { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
}, 120_000);

test('SIGTERM lets an in-flight request finish, refuses new ones, and exits 0', async () => {
  const db = await createTestDatabase('sigterm', { migrated: true });
  const port = await freePort();
  const key = `cs_admin_${'k'.repeat(40)}`;
  const server = spawnServer({ DATABASE_URL: db.url, PORT: String(port), HOST: '127.0.0.1', ADMIN_API_KEY: key, SECRET_KEY: 'ab'.repeat(32), DATA_DIR: mkdtempSync(join(tmpdir(), 'cs-')) });
  try {
    await server.waitFor(/GraphQL endpoint/);
    const body = JSON.stringify({ query: 'mutation { createRecord(module: "Contacts", fields: { lastName: "InFlight" }) { record { id } } }' });
    // `Expect: 100-continue` makes the server confirm it has parsed the headers: from then on the request is in
    // flight. SIGTERM arrives while its body is still being sent.
    const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path: '/graphql', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${key}`, expect: '100-continue' } }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      req.on('continue', () => {
        req.write(body.slice(0, 20));
        server.child.kill('SIGTERM');
        server.waitFor(/shutting down/).then(() => req.end(body.slice(20)), reject);
      });
      req.flushHeaders();
    });
    const answered = await response;
    expect(answered.status).toBe(200);
    expect(JSON.parse(answered.text).data.createRecord.record.id).toMatch(/^[0-9a-f-]{36}$/);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.output()).toMatch(/"msg":"stopped"/);
  } finally {
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
    await db.drop();
  }
}, 60_000);

test('a bad configuration value stops the server with one clear line naming the variable', async () => {
  const server = spawnServer({ PORT: 'eighty', DATA_DIR: mkdtempSync(join(tmpdir(), 'cs-')) });
  const { code } = await server.exited;
  expect(code).toBe(78);
  expect(server.output().trim()).toBe('Invalid configuration: PORT must be a port number');
  expect(readFileSync(join(__dirname, '..', '..', '.env.example'), 'utf8')).toMatch(/^PORT=4000$/m);
});

describe('operator: instances on one database, each left to generate its own SECRET_KEY', () => {
  // Each instance would generate a different HMAC key into its own DATA_DIR: a code sent through one could never be
  // verified through another. Every entry point refuses that configuration with one line and exit 78.
  test('the server, the worker, the CLI and the migration CLI refuse to start; with SECRET_KEY the server starts', async () => {
    const db = await createTestDatabase('no_secret_key');
    const line = 'Invalid configuration: SECRET_KEY is required when DATABASE_URL is set (every instance on that database must use the same key)';
    try {
      const dataDir = mkdtempSync(join(tmpdir(), 'cs-no-secret-'));
      const env = { DATABASE_URL: db.url, PORT: String(await freePort()), HOST: '127.0.0.1', DATA_DIR: dataDir };
      for (const entry of [['src/main.ts'], ['src/worker.ts'], ['src/cli.ts', 'apikey', 'list', '--user', 'admin@countersign.local'], ['src/db/migration-cli.ts', 'migration:show']]) {
        const refused = spawnServer(env, entry);
        expect({ entry: entry[0], ...(await refused.exited) }).toEqual({ entry: entry[0], code: 78, signal: null });
        expect(refused.output().trim()).toBe(line);
      }
      expect(existsSync(join(dataDir, 'secret-key'))).toBe(false); // no per-instance key was generated

      const server = spawnServer({ ...env, SECRET_KEY: 'cd'.repeat(32) });
      try {
        await server.waitFor(/GraphQL endpoint/);
        server.child.kill('SIGTERM');
        expect(await server.exited).toEqual({ code: 0, signal: null });
        expect(existsSync(join(dataDir, 'secret-key'))).toBe(false);
      } finally {
        if (server.child.exitCode === null) server.child.kill('SIGKILL');
      }
    } finally {
      await db.drop();
    }
  }, 120_000);
});
