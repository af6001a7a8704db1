import type { RunningApp } from '../../src/app/server';
import { startLoggedApp, type LoggedApp } from '../support/logged-app';
import { freshMobile } from './otp-helpers';
import { restPost } from '../support/rest';

/** Codes never reach the log, except in the `log` provider's own message lines. */
const lines: string[] = [];
let logged: LoggedApp;
let app: RunningApp;
let ADMIN_API_KEY: string;

beforeAll(async () => {
  logged = await startLoggedApp('otp_logs', lines);
  ({ app, adminKey: ADMIN_API_KEY } = logged);
});
afterAll(() => logged.stop());

function post(path: string, body: unknown) {
  return restPost({ url: app.url, adminKey: ADMIN_API_KEY }, path, body); // checked against openapi.json
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
