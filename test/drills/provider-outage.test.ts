import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { freePort } from '../support/global-setup';
import { startTestServer, type TestServer } from '../support/test-server';
import { FakeHttpProvider, FakeSmtpServer } from '../otp/fake-providers';
import { SEND, freshMobile, waitForRows } from '../otp/otp-helpers';

/**
 * Providers down (connection refused) or slow (timeout): each delivery is retried with pg-boss backoff, then FAILED with
 * the reason, while the other channels of the same request are delivered as usual.
 */
const RETRY_LIMIT = 2;
const TIMEOUT_MS = 500;
const twilio = new FakeHttpProvider((n) => ({ sid: `SM${String(n).padStart(32, '0')}` }));
const whatsapp = new FakeHttpProvider((n) => ({ messages: [{ id: `wamid.OUTAGE${n}` }] }));
const smtp = new FakeSmtpServer();
let closedPort: number;
/** An SMTP server that accepts connections and never says a word (a hung mail server). */
const silentSockets = new Set<net.Socket>();
const silentSmtp = net.createServer((socket) => { silentSockets.add(socket); socket.on('close', () => silentSockets.delete(socket)); });
let urls: { twilio: string; whatsapp: string; smtp: string };
const servers: TestServer[] = [];

function env(urls: { twilio: string; whatsapp: string; smtp: string }): Record<string, string> {
  return {
    SMS_PROVIDER: 'twilio', TWILIO_ACCOUNT_SID: 'AC1', TWILIO_AUTH_TOKEN: 'token', TWILIO_FROM: '+15005550006', TWILIO_BASE_URL: urls.twilio,
    WHATSAPP_PROVIDER: 'meta', WHATSAPP_TOKEN: 'meta-token', WHATSAPP_PHONE_NUMBER_ID: '1234567890', WHATSAPP_BASE_URL: urls.whatsapp,
    EMAIL_PROVIDER: 'smtp', SMTP_URL: urls.smtp, SMTP_FROM: 'otp@countersign.test',
    OTP_DELIVERY_RETRY_LIMIT: String(RETRY_LIMIT), OTP_DELIVERY_RETRY_DELAY_SECONDS: '1', OTP_PROVIDER_TIMEOUT_MS: String(TIMEOUT_MS),
  };
}

beforeAll(async () => {
  closedPort = await freePort(); // nothing listens there: connection refused
  const [twilioUrl, whatsappUrl, smtpUrl] = await Promise.all([twilio.start(), whatsapp.start(), smtp.start()]);
  urls = { twilio: twilioUrl, whatsapp: `${whatsappUrl}/v21.0`, smtp: smtpUrl };
  await new Promise<void>((resolve) => silentSmtp.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await Promise.all([twilio.stop(), whatsapp.stop(), smtp.stop()]);
  silentSockets.forEach((socket) => socket.destroy());
  await new Promise((resolve) => silentSmtp.close(resolve));
});

async function sendAll(t: TestServer) {
  const mobile = freshMobile();
  const email = `outage-${mobile}@example.com`;
  const res = await t.gql(SEND, { input: { mobileNo: mobile, email, channels: ['SMS', 'WHATSAPP', 'EMAIL'], source: 'outage', type: 'simple_otp', emailFromName: 'Drill', emailSubject: 'Code', emailTemplateId: 'otp_email' } });
  expect(res.body.data.sendOtp.userErrors).toEqual([]);
  const id = res.body.data.sendOtp.otpRequest.id;
  const rows = await waitForRows(t, `SELECT d.*, j.retry_count, j.retry_limit, j.retry_backoff, j.state AS job_state
      FROM otp_deliveries d LEFT JOIN pgboss.job j ON j.data->>'deliveryId' = d.id::text WHERE d.otp_request_id = $1`, [id],
  (r) => r.length === 3 && r.every((d: any) => !['QUEUED', 'SENDING'].includes(d.status) && d.job_state === 'completed'), 30_000);
  return { email, byChannel: Object.fromEntries(rows.map((r: any) => [r.channel, r])) as Record<string, any> };
}

test('SMS provider refuses connections and WhatsApp hangs: both FAILED with the reason after the retries; email is SENT', async () => {
  const t = await startTestServer('provider_outage_a', env({ ...urls, twilio: `http://127.0.0.1:${closedPort}` }));
  servers.push(t);
  whatsapp.mode = 'hang';
  const mailsBefore = smtp.received.length;
  const callsBefore = whatsapp.received.length;
  const { email, byChannel } = await sendAll(t);
  expect(byChannel.SMS).toMatchObject({ status: 'FAILED', attempts: RETRY_LIMIT + 1, provider: 'twilio', code_sealed: null,
    error: 'The provider could not be reached (ECONNREFUSED).', retry_count: RETRY_LIMIT, retry_backoff: true });
  expect(byChannel.WHATSAPP).toMatchObject({ status: 'FAILED', attempts: RETRY_LIMIT + 1, provider: 'meta', code_sealed: null,
    error: 'The provider did not answer in time (timeout).', retry_count: RETRY_LIMIT, retry_backoff: true });
  expect(byChannel.EMAIL).toMatchObject({ status: 'SENT', attempts: 1, provider: 'smtp', error: null });
  expect(whatsapp.received.length - callsBefore).toBe(RETRY_LIMIT + 1);
  expect(smtp.received.slice(mailsBefore).map((m) => m.to)).toEqual([[email]]);
}, 60_000);

test('SMTP server down while SMS and WhatsApp are up: email FAILED with the reason, SMS and WhatsApp SENT', async () => {
  whatsapp.mode = 'ok';
  twilio.mode = 'ok';
  const t = await startTestServer('provider_outage_b', env({ ...urls, smtp: `smtp://mailer:mail-secret@127.0.0.1:${closedPort}` }));
  servers.push(t);
  const { byChannel } = await sendAll(t);
  expect(byChannel.EMAIL).toMatchObject({ status: 'FAILED', attempts: RETRY_LIMIT + 1, provider: 'smtp', code_sealed: null, retry_count: RETRY_LIMIT });
  expect(byChannel.EMAIL.error).toMatch(/ECONNREFUSED/);
  expect(byChannel.SMS).toMatchObject({ status: 'SENT', attempts: 1, provider: 'twilio' });
  expect(byChannel.WHATSAPP).toMatchObject({ status: 'SENT', attempts: 1, provider: 'meta' });
}, 60_000);

test('SMTP server hangs (never greets): email FAILED with a timeout after the retries, SMS SENT', async () => {
  twilio.mode = 'ok';
  const port = (silentSmtp.address() as AddressInfo).port;
  const t = await startTestServer('provider_outage_c', env({ ...urls, smtp: `smtp://mailer:mail-secret@127.0.0.1:${port}` }));
  servers.push(t);
  const { byChannel } = await sendAll(t);
  expect(byChannel.EMAIL).toMatchObject({ status: 'FAILED', attempts: RETRY_LIMIT + 1, provider: 'smtp', code_sealed: null, retry_count: RETRY_LIMIT });
  expect(byChannel.EMAIL.error).toMatch(/greeting|timeout|timed out/i);
  expect(byChannel.SMS).toMatchObject({ status: 'SENT', attempts: 1 });
  expect(byChannel.WHATSAPP).toMatchObject({ status: 'SENT', attempts: 1 });
}, 60_000);

test('a provider that fails and then recovers: the retry delivers, once', async () => {
  twilio.mode = 'fail';
  const t = servers[1];
  const before = twilio.received.length;
  const res = await t.gql(SEND, { input: { mobileNo: freshMobile(), channels: ['SMS'], source: 'outage', type: 'simple_otp' } });
  const id = res.body.data.sendOtp.otpRequest.id;
  const deadline = Date.now() + 20_000;
  while (twilio.received.length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  twilio.mode = 'ok';
  const [delivery] = await waitForRows(t, 'SELECT * FROM otp_deliveries WHERE otp_request_id = $1', [id], (r) => r[0] && !['QUEUED', 'SENDING'].includes(r[0].status));
  expect(delivery).toMatchObject({ status: 'SENT', attempts: 2, error: null });
  expect(twilio.received.length - before).toBe(2);
});
