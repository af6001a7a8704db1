import { Writable } from 'node:stream';
import pino from 'pino';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/core/config';
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

describe('attacker: grows /metrics with paths of their own choosing, without a token', () => {
  test('hundreds of distinct long paths under /api/, /webhooks/ and elsewhere share one `unmatched` label; /metrics stays small', async () => {
    const prefixes = ['/api/', '/webhooks/', '/explorer/', '/', '/api/send-otp/'];
    const paths = Array.from({ length: 300 }, (_, i) => `${prefixes[i % prefixes.length]}${randomBytes(600).toString('hex')}`);
    for (let i = 0; i < paths.length; i += 25) {
      await Promise.all(paths.slice(i, i + 25).map(async (path) => { await (await fetch(`${app.url}${path}`, { method: i % 50 ? 'GET' : 'POST' })).arrayBuffer(); }));
    }
    await fetch(`${app.url}/explorer/assets/not-an-asset-${randomBytes(8).toString('hex')}.js`);
    const text = await (await fetch(`${app.url}/metrics`)).text();
    const routes = new Set([...text.matchAll(/^http_request_duration_seconds_count\{route="([^"]*)"/gm)].map((m) => m[1]));
    expect(routes.has('unmatched')).toBe(true);
    for (const route of routes) {
      expect(['unmatched', '/graphql', '/healthz', '/readyz', '/metrics', '/explorer', '/explorer/assets/:name', '/api/send-otp', '/api/verify-otp', '/webhooks/twilio', '/webhooks/whatsapp']).toContain(route);
    }
    expect(text).not.toContain(paths[0].slice(-40));
    expect(text.length).toBeLessThan(100_000);
  });

  test('a known route is labelled by its pattern, not by the path that reached it', async () => {
    await fetch(`${app.url}/explorer/assets/no-such-${randomBytes(8).toString('hex')}.css`);
    await fetch(`${app.url}/api/send-otp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const text = await (await fetch(`${app.url}/metrics`)).text();
    expect(text).toMatch(/http_request_duration_seconds_count\{route="\/explorer\/assets\/:name",status="404"\} [1-9]/);
    expect(text).toMatch(/http_request_duration_seconds_count\{route="\/api\/send-otp",status="401"\} [1-9]/);
  });
});

describe('attacker: frames a page of this server inside their own site', () => {
  test('every response forbids framing (X-Frame-Options DENY and CSP frame-ancestors none)', async () => {
    for (const [path, init] of [['/healthz', {}], ['/graphql', { headers: { accept: 'text/html' } }], ['/explorer', {}], ['/nope', {}], ['/api/verify-otp', { method: 'POST' }]] as Array<[string, RequestInit]>) {
      const res = await fetch(`${app.url}${path}`, init);
      expect([path, res.headers.get('x-frame-options')]).toEqual([path, 'DENY']);
      expect([path, res.headers.get('content-security-policy')]).toEqual([path, expect.stringContaining("frame-ancestors 'none'")]);
    }
    const graphql = await gql('{ me { email } }');
    expect(graphql.headers.get('x-frame-options')).toBe('DENY');
  });
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
