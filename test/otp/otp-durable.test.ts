import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/core/config';
import { startApp, type RunningApp } from '../../src/app/server';
import { startTestServer, type TestServer } from '../support/test-server';
import { FakeHttpProvider } from './fake-providers';
import { CANCEL, SEND, freshMobile, waitForRows } from './otp-helpers';

const twilio = new FakeHttpProvider((n) => ({ sid: `SM${String(n).padStart(32, '0')}` }));
let twilioUrl: string;
let t: TestServer;
let second: RunningApp | null = null;

const SECRET_KEY = randomBytes(32).toString('hex');
const TWILIO = { SECRET_KEY, SMS_PROVIDER: 'twilio', TWILIO_ACCOUNT_SID: 'AC1', TWILIO_AUTH_TOKEN: 'token', TWILIO_FROM: '+15005550006' };

beforeAll(async () => {
  twilioUrl = await twilio.start();
  // first instance: no worker, as if it stopped before delivering
  t = await startTestServer('otp_durable', { ...TWILIO, TWILIO_BASE_URL: twilioUrl, OTP_WORKER: 'false' });
});
afterAll(async () => {
  await second?.stop();
  await t.close();
  await twilio.stop();
});

test('jobs queued while no worker runs are delivered after the next start; canceled ones are not', async () => {
  const send = async () => (await t.gql(SEND, { input: { mobileNo: freshMobile(), channels: ['SMS'], source: 'durable', type: 'simple_otp' } })).body.data.sendOtp.otpRequest;
  const pending = await send();
  const canceled = await send();
  await t.gql(CANCEL, { id: canceled.id });
  const queued = await t.sql(`SELECT status FROM otp_deliveries WHERE otp_request_id = ANY($1::uuid[])`, [[pending.id, canceled.id]]);
  expect(queued.map((r) => r.status)).toEqual(['QUEUED', 'QUEUED']);
  await t.app.stop();
  expect(twilio.received).toHaveLength(0);

  second = await startApp(loadConfig({
    NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', DATABASE_URL: t.databaseUrl, LOG_LEVEL: 'silent',
    DATA_DIR: mkdtempSync(join(tmpdir(), 'countersign-test-data-')),
    ...TWILIO, TWILIO_BASE_URL: twilioUrl,
  }));
  const [delivered] = await waitForRows(t, 'SELECT * FROM otp_deliveries WHERE otp_request_id = $1', [pending.id], (rows) => rows[0] && !['QUEUED', 'SENDING'].includes(rows[0].status));
  expect(delivered).toMatchObject({ status: 'SENT', attempts: 1, provider: 'twilio' });
  const [skipped] = await waitForRows(t, 'SELECT * FROM otp_deliveries WHERE otp_request_id = $1', [canceled.id], (rows) => rows[0] && !['QUEUED', 'SENDING'].includes(rows[0].status));
  expect(skipped).toMatchObject({ status: 'FAILED', error: 'The OTP request was no longer pending when its turn came.', code_sealed: null });
  expect(twilio.received).toHaveLength(1);
});
