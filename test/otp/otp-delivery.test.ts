import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Client } from 'pg';
import pino from 'pino';
import { loadConfig } from '../../src/core/config';
import { startApp, type RunningApp } from '../../src/app/server';
import { freePort } from '../support/global-setup';
import { until } from '../support/poll';
import { createTestDatabase } from '../support/test-database';
import { twilioSignature } from '../../src/otp/delivery/webhooks';
import { startTestServer, type TestServer } from '../support/test-server';
import { FakeHttpProvider, FakeSmtpServer } from './fake-providers';
import { GET, SEND, VERIFY, freshMobile, waitForRows } from './otp-helpers';

const TWILIO_SID = 'AC0123456789abcdef0123456789abcdef';
const TWILIO_TOKEN = 'twilio-auth-token-for-tests';
const WA_SECRET = 'whatsapp-app-secret-for-tests';

let t: TestServer;
const twilio = new FakeHttpProvider((n) => ({ sid: `SM${String(n).padStart(32, '0')}`, status: 'queued' }));
const whatsapp = new FakeHttpProvider((n) => ({ messaging_product: 'whatsapp', messages: [{ id: `wamid.TEST${n}` }] }));
const smtp = new FakeSmtpServer();

beforeAll(async () => {
  const [twilioUrl, whatsappUrl, smtpUrl] = await Promise.all([twilio.start(), whatsapp.start(), smtp.start()]);
  t = await startTestServer('otp_delivery', {
    SMS_PROVIDER: 'twilio', TWILIO_ACCOUNT_SID: TWILIO_SID, TWILIO_AUTH_TOKEN: TWILIO_TOKEN, TWILIO_FROM: '+15005550006', TWILIO_BASE_URL: twilioUrl,
    WHATSAPP_PROVIDER: 'meta', WHATSAPP_TOKEN: 'meta-token', WHATSAPP_PHONE_NUMBER_ID: '1234567890', WHATSAPP_BASE_URL: `${whatsappUrl}/v21.0`,
    WHATSAPP_APP_SECRET: WA_SECRET, WHATSAPP_VERIFY_TOKEN: 'verify-me', EMAIL_PROVIDER: 'smtp', SMTP_URL: smtpUrl, SMTP_FROM: 'otp@countersign.test',
    OTP_DELIVERY_RETRY_LIMIT: '2', OTP_DELIVERY_RETRY_DELAY_SECONDS: '1', OTP_PROVIDER_TIMEOUT_MS: '500',
  });
});
afterAll(async () => {
  await t.close();
  await Promise.all([twilio.stop(), whatsapp.stop(), smtp.stop()]);
});
beforeEach(() => {
  twilio.mode = 'ok';
  whatsapp.mode = 'ok';
});

async function send(input: Record<string, unknown>) {
  const res = await t.gql(SEND, { input: { source: 'delivery_test', type: 'simple_otp', ...input } });
  expect(res.body.data.sendOtp.userErrors).toEqual([]);
  return res.body.data.sendOtp.otpRequest;
}

function deliveriesSettled(id: string, count = 1) {
  return waitForRows(t, `SELECT * FROM otp_deliveries WHERE otp_request_id = $1 ORDER BY created_at`, [id],
    (rows) => rows.length === count && rows.every((r: any) => !['QUEUED', 'SENDING'].includes(r.status)));
}

async function verifies(id: string, code: string): Promise<boolean> {
  const res = await t.gql(VERIFY, { input: { otpRequestId: id, code } });
  return res.body.data.verifyOtp.verified;
}

describe('delivery through real providers: successful cases', () => {
  test('twilio: Messages API with basic auth, the code in the body, status SENT with the message sid', async () => {
    const mobileNo = freshMobile();
    const request = await send({ mobileNo, channels: ['SMS'] });
    const [delivery] = await deliveriesSettled(request.id);
    expect(delivery).toMatchObject({ status: 'SENT', provider: 'twilio', attempts: 1, error: null, code_sealed: null });
    expect(delivery.provider_message_id).toMatch(/^SM\d{32}$/);
    const call = twilio.received.at(-1)!;
    expect(call.method).toBe('POST');
    expect(call.url).toBe(`/2010-04-01/Accounts/${TWILIO_SID}/Messages.json`);
    expect(call.headers.authorization).toBe(`Basic ${Buffer.from(`${TWILIO_SID}:${TWILIO_TOKEN}`).toString('base64')}`);
    const form = new URLSearchParams(call.body);
    expect(form.get('To')).toBe(`+91${mobileNo}`);
    expect(form.get('From')).toBe('+15005550006');
    const code = /(\d{6}) is your verification code\. It expires in 10 minutes/.exec(form.get('Body')!)![1];
    expect(await verifies(request.id, code)).toBe(true);
  });

  test('meta: WhatsApp Cloud template message with bearer token and the code as parameter', async () => {
    const mobileNo = freshMobile();
    const request = await send({ mobileNo, channels: ['WHATSAPP'], otpCodeType: 'ALPHANUMERIC', otpCodeLength: 8 });
    const [delivery] = await deliveriesSettled(request.id);
    expect(delivery).toMatchObject({ status: 'SENT', provider: 'meta', provider_message_id: expect.stringMatching(/^wamid\.TEST\d+$/) });
    const call = whatsapp.received.at(-1)!;
    expect(call.url).toBe('/v21.0/1234567890/messages');
    expect(call.headers.authorization).toBe('Bearer meta-token');
    const body = JSON.parse(call.body);
    expect(body).toMatchObject({ messaging_product: 'whatsapp', to: `91${mobileNo}`, type: 'template', template: { name: 'otp_whatsapp', language: { code: 'en' } } });
    const code = body.template.components[0].parameters[0].text;
    expect(code).toMatch(/^[0-9A-Z]{8}$/);
    expect(await verifies(request.id, code.toLowerCase())).toBe(true);
  });

  test('smtp: a real SMTP server receives the rendered email with escaped HTML values', async () => {
    await t.gql(`mutation($input: CreateMessageTemplateInput!) { createMessageTemplate(input: $input) { userErrors { message } } }`, {
      input: { id: 'welcome_otp', channel: 'EMAIL', subject: 'ignored', body: 'Hello {{name}}, your code is {{otp}} ({{expiresInMinutes}} min).', htmlBody: '<p>Hello {{name}}, <b>{{otp}}</b></p>' },
    });
    const request = await send({
      email: 'Person@Example.com', channels: ['EMAIL'], emailFromName: 'Gilchrist', emailSubject: 'Code for {{name}}',
      emailTemplateId: 'welcome_otp', emailTemplateAttributes: { name: 'Ann <script>' },
    });
    const [delivery] = await deliveriesSettled(request.id);
    expect(delivery).toMatchObject({ status: 'SENT', provider: 'smtp', recipient: 'person@example.com' });
    const mail = smtp.received.at(-1)!;
    expect(smtp.logins.at(-1)).toEqual({ username: 'mailer', password: 'mail-secret' });
    expect(mail.from).toBe('otp@countersign.test');
    expect(mail.to).toEqual(['person@example.com']);
    expect(mail.raw).toMatch(/From: Gilchrist <otp@countersign\.test>/);
    expect(mail.raw).toMatch(/Subject: Code for Ann <script>/);
    expect(mail.raw).toContain('Hello Ann &lt;script&gt;');
    const code = /your code is (\d{6}) \(10 min\)/.exec(mail.raw)![1];
    expect(await verifies(request.id, code)).toBe(true);
  });

  test('webhooks: signed Twilio and WhatsApp status callbacks mark deliveries DELIVERED or FAILED', async () => {
    const sms = await send({ mobileNo: freshMobile(), channels: ['SMS', 'WHATSAPP'] });
    const rows = await deliveriesSettled(sms.id, 2);
    const smsSid = rows.find((r: any) => r.channel === 'SMS').provider_message_id;
    const waId = rows.find((r: any) => r.channel === 'WHATSAPP').provider_message_id;

    const params = { MessageSid: smsSid, MessageStatus: 'delivered', AccountSid: TWILIO_SID };
    const url = `${t.url}/webhooks/twilio`;
    const unsigned = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'bogus' }, body: new URLSearchParams(params).toString() });
    expect(unsigned.status).toBe(403);
    const signed = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(TWILIO_TOKEN, url, params) },
      body: new URLSearchParams(params).toString(),
    });
    expect(signed.status).toBe(204);

    const payload = JSON.stringify({ object: 'whatsapp_business_account', entry: [{ changes: [{ value: { statuses: [{ id: waId, status: 'failed', errors: [{ code: 131026, title: 'Message undeliverable' }] }] } }] }] });
    const badSig = await fetch(`${t.url}/webhooks/whatsapp`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': 'sha256=00' }, body: payload });
    expect(badSig.status).toBe(403);
    const sig = `sha256=${createHmac('sha256', WA_SECRET).update(payload).digest('hex')}`;
    const okSig = await fetch(`${t.url}/webhooks/whatsapp`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': sig }, body: payload });
    expect(okSig.status).toBe(200);

    const read = await t.gql(GET, { id: sms.id });
    const byChannel = Object.fromEntries(read.body.data.otpRequest.deliveries.map((d: any) => [d.channel, d]));
    expect(byChannel.SMS).toMatchObject({ status: 'DELIVERED', deliveredAt: expect.any(String) });
    expect(byChannel.WHATSAPP).toMatchObject({ status: 'FAILED', failedAt: expect.any(String) });
    const [failed] = await t.sql("SELECT error, error_category FROM otp_deliveries WHERE provider_message_id = $1", [waId]);
    expect(failed).toEqual({ error: 'WhatsApp reported failed: Message undeliverable.', error_category: 'UNDELIVERED' });
  });

  test('webhooks: the WhatsApp subscription handshake echoes the challenge only for the right verify token', async () => {
    const ok = await fetch(`${t.url}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('1158201444');
    const wrong = await fetch(`${t.url}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1`);
    expect(wrong.status).toBe(403);
  });

  test('metrics count sends, verifications and delivery durations', async () => {
    const res = await fetch(`${t.url}/metrics`);
    const text = await res.text();
    expect(text).toMatch(/otp_sent_total\{channel="SMS"\} \d+/);
    expect(text).toMatch(/otp_verify_total\{result="VERIFIED"\} \d+/);
    expect(text).toMatch(/otp_delivery_duration_seconds_count\{channel="SMS",provider="twilio",outcome="sent"\} \d+/);
  });
});

describe('delivery through real providers: failing cases', () => {
  test('provider answers 500: retried up to the limit, then FAILED with the error kept', async () => {
    twilio.mode = 'fail';
    const before = twilio.received.length;
    const request = await send({ mobileNo: freshMobile(), channels: ['SMS'] });
    const [delivery] = await deliveriesSettled(request.id);
    expect(delivery).toMatchObject({ status: 'FAILED', attempts: 3, error: 'Twilio answered 500: Internal failure at the provider', code_sealed: null });
    expect(twilio.received.length - before).toBe(3);
  });

  test('provider hangs: the call times out, is retried, then FAILED', async () => {
    whatsapp.mode = 'hang';
    const request = await send({ mobileNo: freshMobile(), channels: ['WHATSAPP'] });
    const [delivery] = await deliveriesSettled(request.id);
    expect(delivery).toMatchObject({ status: 'FAILED', attempts: 3, error: 'The provider did not answer in time (timeout).' });
  });
});

describe('attacker: reads delivery errors to learn internal addresses and provider answers', () => {
  const READ = `query($id: ID!) { otpRequest(id: $id) { deliveries { channel status error errorCategory attempts } } }`;
  const logLines: string[] = [];
  const meta = new FakeHttpProvider((n) => ({ messages: [{ id: `wamid.LEAK${n}` }] }));
  const adminKey = `cs_admin_${randomBytes(24).toString('base64url')}`;
  let app: RunningApp;
  let database: { url: string; drop(): Promise<void> };
  let client: Client;
  let closedPort: number;

  beforeAll(async () => {
    closedPort = await freePort(); // nothing listens there: connection refused
    const metaUrl = await meta.start();
    database = await createTestDatabase('otp_delivery_leaks', { migrated: true });
    const sink = new Writable({ write(chunk, _encoding, done) { logLines.push(...String(chunk).split('\n').filter(Boolean)); done(); } });
    app = await startApp(loadConfig({
      NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', DATABASE_URL: database.url, ADMIN_API_KEY: adminKey, LOG_LEVEL: 'info',
      DATA_DIR: mkdtempSync(join(tmpdir(), 'countersign-test-data-')), SECRET_KEY: randomBytes(32).toString('hex'),
      SMS_PROVIDER: 'twilio', TWILIO_ACCOUNT_SID: TWILIO_SID, TWILIO_AUTH_TOKEN: TWILIO_TOKEN, TWILIO_FROM: '+15005550006', TWILIO_BASE_URL: `http://127.0.0.1:${closedPort}`,
      WHATSAPP_PROVIDER: 'meta', WHATSAPP_TOKEN: 'meta-token', WHATSAPP_PHONE_NUMBER_ID: '1234567890', WHATSAPP_BASE_URL: `${metaUrl}/v21.0`,
      EMAIL_PROVIDER: 'smtp', SMTP_URL: `smtp://mailer:mail-secret@127.0.0.1:${closedPort}`,
      OTP_DELIVERY_RETRY_LIMIT: '0', OTP_PROVIDER_TIMEOUT_MS: '300',
    }), pino({ level: 'info' }, sink));
    client = new Client({ connectionString: database.url });
    await client.connect();
  });
  afterAll(async () => {
    await client.end();
    await app.stop();
    await database.drop();
    await meta.stop();
  });

  const gql = async (query: string, variables: Record<string, unknown>) => {
    const res = await fetch(app.graphqlUrl, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` }, body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as any;
  };
  async function failedDeliveries(channels: string[]): Promise<Record<string, { status: string; error: string; errorCategory: string }>> {
    const mobileNo = freshMobile();
    const sent = await gql(SEND, { input: { source: 'leak_test', type: 'simple_otp', channels, mobileNo, email: `leak-${mobileNo}@example.com`,
      ...(channels.includes('EMAIL') ? { emailFromName: 'Leak test', emailSubject: 'Code', emailTemplateId: 'otp_email' } : {}) } });
    expect(sent.data.sendOtp.userErrors).toEqual([]);
    const id = sent.data.sendOtp.otpRequest.id;
    const deliveries = await until('the deliveries to fail', async () => {
      const read = (await gql(READ, { id })).data.otpRequest.deliveries;
      return read.length === channels.length && read.every((d: { status: string }) => d.status === 'FAILED') && read;
    }, 20_000);
    return Object.fromEntries(deliveries.map((d: { channel: string }) => [d.channel, d]));
  }
  const internals = () => [new RegExp(String(closedPort)), /127\.0\.0\.1/, /10\.20\.30\.40/, /ECONN|ESOCKET/, /gw-7/, /\bat .+:\d+/];

  test('a provider that refuses connections, and one that answers 400, show a category and a general message only', async () => {
    meta.mode = 'reject';
    const byChannel = await failedDeliveries(['SMS', 'WHATSAPP', 'EMAIL']);
    expect(byChannel.SMS).toMatchObject({ errorCategory: 'PROVIDER_UNREACHABLE', error: 'The message provider could not be reached.' });
    expect(byChannel.EMAIL).toMatchObject({ errorCategory: 'PROVIDER_UNREACHABLE', error: 'The message provider could not be reached.' });
    expect(byChannel.WHATSAPP).toMatchObject({ errorCategory: 'PROVIDER_REJECTED', error: expect.stringMatching(/answered with an error/) });
    for (const pattern of internals()) expect(JSON.stringify(byChannel)).not.toMatch(pattern);

    // operators keep the full reason: in the log line of the attempt, and on the delivery row
    const rows = (await client.query("SELECT channel, error FROM otp_deliveries WHERE status = 'FAILED'")).rows;
    expect(rows.find((r) => r.channel === 'EMAIL').error).toBe(`connect ECONNREFUSED 127.0.0.1:${closedPort}`);
    expect(rows.find((r) => r.channel === 'WHATSAPP').error).toMatch(/WhatsApp Cloud answered 400: .*10\.20\.30\.40:8443/);
    const logged = logLines.map((line) => JSON.parse(line)).filter((l) => l.msg === 'OTP delivery attempt failed');
    expect(logged).toEqual(expect.arrayContaining([
      expect.objectContaining({ channel: 'EMAIL', errorCategory: 'PROVIDER_UNREACHABLE', reason: `connect ECONNREFUSED 127.0.0.1:${closedPort}` }),
      expect.objectContaining({ channel: 'SMS', errorCategory: 'PROVIDER_UNREACHABLE', detail: `connect ECONNREFUSED 127.0.0.1:${closedPort}` }),
      expect.objectContaining({ channel: 'WHATSAPP', errorCategory: 'PROVIDER_REJECTED', reason: expect.stringMatching(/10\.20\.30\.40/) }),
    ]));
  });

  test('a provider that never answers shows TIMEOUT', async () => {
    meta.mode = 'hang';
    const byChannel = await failedDeliveries(['WHATSAPP']);
    expect(byChannel.WHATSAPP).toMatchObject({ errorCategory: 'TIMEOUT', error: 'The message provider did not answer in time.' });
    for (const pattern of internals()) expect(JSON.stringify(byChannel)).not.toMatch(pattern);
  });
});
