import { Writable } from 'node:stream';
import pino from 'pino';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/app/config';
import { startApp, type RunningApp } from '../../src/app/server';
import { runMigrations } from '../../src/db/database';
import { createDataSource } from '../../ormconfig';
import { createTestDatabase } from '../support/test-database';
import { TcpProxy } from '../support/tcp-proxy';

let app: RunningApp;
let proxy: TcpProxy;
let drop: () => Promise<void>;
const logLines: string[] = [];
const adminKey = `cs_admin_${randomBytes(24).toString('base64url')}`;

beforeAll(async () => {
  const db = await createTestDatabase('operations');
  drop = db.drop;
  const target = new URL(db.url);
  const ds = createDataSource({ url: db.url, poolSize: 2 });
  await ds.initialize();
  await runMigrations(ds);
  await ds.destroy();
  proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
  const port = await proxy.start();
  const viaProxy = new URL(db.url);
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(port);
  const sink = new Writable({ write(chunk, _enc, done) { logLines.push(...String(chunk).split('\n').filter(Boolean)); done(); } });
  const config = loadConfig({
    NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', DATABASE_URL: viaProxy.toString(), MIGRATIONS_RUN: 'false',
    DATA_DIR: mkdtempSync(join(tmpdir(), 'countersign-ops-')), SECRET_KEY: randomBytes(32).toString('hex'), ADMIN_API_KEY: adminKey, LOG_LEVEL: 'info',
  });
  app = await startApp(config, pino({ level: 'info' }, sink));
});

afterAll(async () => {
  await app.stop();
  await proxy.cut();
  await drop();
});

const gql = (query: string, headers: Record<string, string> = {}) => fetch(app.graphqlUrl, {
  method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}`, ...headers }, body: JSON.stringify({ query }),
});

test('/healthz answers without a token', async () => {
  const res = await fetch(`${app.url}/healthz`);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ status: 'ok' });
});

test('/readyz is 200 with the database and 503 without it; the same process recovers', async () => {
  expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
  await proxy.cut();
  const down = await fetch(`${app.url}/readyz`);
  expect(down.status).toBe(503);
  expect(await down.json()).toEqual({ status: 'unavailable', reason: 'database unreachable' });
  const during = await gql('{ me { email } }');
  expect(during.status).toBeGreaterThanOrEqual(400);
  const body = await during.text();
  expect(body).not.toMatch(/\bat .+\.(js|ts):\d+/);
  await proxy.restore();
  let status = 0;
  for (let i = 0; i < 50 && status !== 200; i += 1) status = (await fetch(`${app.url}/readyz`)).status;
  expect(status).toBe(200);
  expect(((await (await gql('{ me { email } }')).json()) as any).data.me.email).toBe('admin@countersign.local');
});

test('/metrics exposes Prometheus metrics including GraphQL request duration', async () => {
  await gql('query Named { modules { name } }');
  const res = await fetch(`${app.url}/metrics`);
  expect(res.status).toBe(200);
  const text = await res.text();
  expect(text).toMatch(/graphql_request_duration_seconds_count\{field="modules",type="query",outcome="ok"\} [1-9]/);
  expect(text).toMatch(/http_request_duration_seconds_count\{route="\/graphql",status="200"\} [1-9]/);
  expect(text).toContain('process_resident_memory_bytes');
});

test('logs are JSON lines with a request id, echoed in x-request-id, and never contain the API key', async () => {
  const res = await gql('{ me { email } }', { 'x-request-id': 'trace-abc-123' });
  expect(res.headers.get('x-request-id')).toBe('trace-abc-123');
  const generated = (await gql('{ me { email } }')).headers.get('x-request-id');
  expect(generated).toMatch(/^[0-9a-f-]{36}$/);
  const parsed = logLines.map((line) => JSON.parse(line));
  expect(parsed.some((l) => l.req?.id === 'trace-abc-123' && l.res?.statusCode === 200)).toBe(true);
  expect(parsed.some((l) => l.req?.id === generated)).toBe(true);
  expect(logLines.join('\n')).not.toContain(adminKey);
  expect(logLines.join('\n')).not.toContain(adminKey.slice(-20));
});

test('unknown routes answer 404 in the error shape', async () => {
  const res = await fetch(`${app.url}/nope`);
  expect(res.status).toBe(404);
  expect(await res.json()).toEqual({ errors: [{ message: 'Not found. The API is at /graphql.', extensions: { code: 'NOT_FOUND' } }] });
});
