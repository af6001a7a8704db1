import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { loadConfig } from '../../src/core/config';
import { startApp, type RunningApp } from '../../src/app/server';
import { createTestDatabase } from '../support/test-database';
import { freshMobile } from './otp-helpers';

/** Codes never reach the log, except in the `log` provider's own message lines. */
const lines: string[] = [];
const ADMIN_API_KEY = `cs_admin_${randomBytes(24).toString('base64url')}`;
let app: RunningApp;
let database: { url: string; drop(): Promise<void> };

beforeAll(async () => {
  database = await createTestDatabase('otp_logs', { migrated: true });
  const sink = new Writable({ write(chunk, _encoding, done) { lines.push(...String(chunk).split('\n').filter(Boolean)); done(); } });
  app = await startApp(loadConfig({
    NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', DATABASE_URL: database.url, ADMIN_API_KEY, LOG_LEVEL: 'trace',
    DATA_DIR: mkdtempSync(join(tmpdir(), 'countersign-test-data-')), SECRET_KEY: randomBytes(32).toString('hex'),
  }), pino({ level: 'trace' }, sink));
});
afterAll(async () => {
  await app.stop();
  await database.drop();
});

function post(path: string, body: unknown) {
  return fetch(`${app.url}${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_API_KEY}` }, body: JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, body: await r.json() as any }));
}

test('a sent and verified code appears only in the log provider line', async () => {
  const mobile = freshMobile();
  const code = 'QX7ZK94M';
  const sent = await post('/api/send-otp', { mobile_no: mobile, channel: 'sms', source: 'logs', type: 'simple_otp', otp_code: code });
  expect(sent.status).toBe(200);
  const deadline = Date.now() + 20_000;
  while (!lines.some((l) => l.includes('otpMessage')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await post('/api/verify-otp', { otp_request_id: sent.body.data.otp_request_id, code: 'WRONG123' });
  expect((await post('/api/verify-otp', { otp_request_id: sent.body.data.otp_request_id, code: code.toLowerCase() })).status).toBe(200);

  const withCode = lines.filter((l) => l.toUpperCase().includes(code) || l.includes('WRONG123'));
  expect(withCode).toHaveLength(1);
  expect(JSON.parse(withCode[0]).otpMessage).toMatchObject({ channel: 'SMS', to: `+91${mobile}` });
  expect(lines.some((l) => l.includes(ADMIN_API_KEY))).toBe(false);
});
