import { createHmac, randomBytes } from 'node:crypto';
import { closeServer, listenOnLoopback } from '../support/local-server';
import http from 'node:http';
import { Client } from 'pg';
import { twilioSignature } from '../../src/otp/delivery/webhooks';
import { startTestServer, type TestServer } from '../support/test-server';
import { GET, SEND, freshMobile, waitForRows } from './otp-helpers';

// Providers may call back with a status before they answer the send request, so before the worker could record the
// message id. Such a callback is kept (bounded in number and age) and applied once the id is recorded.
const TWILIO_SID = 'AC0123456789abcdef0123456789abcdef';
const TWILIO_TOKEN = 'twilio-auth-token-for-early-callbacks';
const WA_SECRET = 'whatsapp-app-secret-for-early-callbacks';
const MAX_KEPT = 5;

/** What the fake provider calls back with before answering, given the message id it is about to return. */
type Callback = (messageId: string) => Promise<number>;

/** A provider API that, on each message, first calls the server's status webhook, then waits for `gate`, then answers. */
class CallbackFirstProvider {
  readonly callbackStatuses: number[] = [];
  callback: Callback | null = null;
  /** Whether the provider waits for its callback's answer before answering the send (false: both race). */
  awaitCallback = true;
  gate: Promise<void> = Promise.resolve();
  private readonly server: http.Server;

  constructor(private readonly answer: (messageId: string) => unknown, private readonly newId: () => string) {
    this.server = http.createServer((req, res) => {
      req.resume();
      req.on('end', async () => {
        const messageId = this.newId();
        const called = this.callback?.(messageId).then((status) => { this.callbackStatuses.push(status); });
        if (this.awaitCallback) await called;
        await this.gate;
        res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify(this.answer(messageId)));
      });
    });
  }

  start(): Promise<string> {
    return listenOnLoopback(this.server);
  }

  stop(): Promise<void> {
    return closeServer(this.server);
  }
}

const twilio = new CallbackFirstProvider((sid) => ({ sid, status: 'queued' }), () => `SM${randomBytes(16).toString('hex')}`);
const whatsapp = new CallbackFirstProvider((id) => ({ messaging_product: 'whatsapp', messages: [{ id }] }), () => `wamid.${randomBytes(12).toString('hex')}`);
let t: TestServer;

async function twilioCallback(sid: string, status: string): Promise<number> {
  const url = `${t.url}/webhooks/twilio`;
  const params = { MessageSid: sid, MessageStatus: status, AccountSid: TWILIO_SID, ...(status === 'undelivered' ? { ErrorCode: '30003' } : {}) };
  const res = await fetch(url, {
    method: 'POST', body: new URLSearchParams(params).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(TWILIO_TOKEN, url, params) },
  });
  return res.status;
}

async function whatsappCallback(id: string, status: string): Promise<number> {
  const payload = JSON.stringify({ object: 'whatsapp_business_account', entry: [{ changes: [{ value: { statuses: [{ id, status, errors: status === 'failed' ? [{ code: 131026, title: 'Message undeliverable' }] : undefined }] } }] }] });
  const res = await fetch(`${t.url}/webhooks/whatsapp`, {
    method: 'POST', body: payload,
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${createHmac('sha256', WA_SECRET).update(payload).digest('hex')}` },
  });
  return res.status;
}

beforeAll(async () => {
  const [twilioUrl, whatsappUrl] = await Promise.all([twilio.start(), whatsapp.start()]);
  t = await startTestServer('otp_early_callbacks', {
    SMS_PROVIDER: 'twilio', TWILIO_ACCOUNT_SID: TWILIO_SID, TWILIO_AUTH_TOKEN: TWILIO_TOKEN, TWILIO_FROM: '+15005550006', TWILIO_BASE_URL: twilioUrl,
    WHATSAPP_PROVIDER: 'meta', WHATSAPP_TOKEN: 'meta-token', WHATSAPP_PHONE_NUMBER_ID: '1234567890', WHATSAPP_BASE_URL: `${whatsappUrl}/v21.0`,
    WHATSAPP_APP_SECRET: WA_SECRET, OTP_PROVIDER_TIMEOUT_MS: '5000', OTP_EARLY_CALLBACKS_MAX: String(MAX_KEPT),
  });
});
afterAll(async () => {
  await t.close();
  await Promise.all([twilio.stop(), whatsapp.stop()]);
});
afterEach(async () => {
  twilio.callback = null;
  whatsapp.callback = null;
  twilio.awaitCallback = true;
  twilio.gate = Promise.resolve();
  whatsapp.gate = Promise.resolve();
  await t.sql('DELETE FROM otp_early_provider_statuses');
});

async function send(channels: string[]): Promise<string> {
  const res = await t.gql(SEND, { input: { mobileNo: freshMobile(), channels, source: 'early_callbacks', type: 'simple_otp' } });
  expect(res.body.data.sendOtp.userErrors).toEqual([]);
  return res.body.data.sendOtp.otpRequest.id;
}

function held(): { gate: Promise<void>; open(): void } {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => { open = resolve; });
  return { gate, open };
}

describe('a provider that calls back before it answers the send', () => {
  test('Twilio "delivered": kept while the id is unknown, then the delivery becomes DELIVERED', async () => {
    const hold = held();
    let sid = '';
    twilio.gate = hold.gate;
    twilio.callback = (id) => { sid = id; return twilioCallback(id, 'delivered'); };
    const id = await send(['SMS']);
    const [kept] = await waitForRows(t, 'SELECT provider, message_id, status FROM otp_early_provider_statuses', [], (rows) => rows.length === 1);
    expect(kept).toEqual({ provider: 'twilio', message_id: sid, status: 'DELIVERED' });
    expect(twilio.callbackStatuses.at(-1)).toBe(204);
    hold.open();
    await waitForRows(t, 'SELECT status FROM otp_deliveries WHERE otp_request_id = $1', [id], (rows) => rows[0]?.status === 'DELIVERED');
    const read = await t.gql(GET, { id });
    expect(read.body.data.otpRequest.deliveries).toEqual([expect.objectContaining({ status: 'DELIVERED', providerMessageId: sid, deliveredAt: expect.any(String) })]);
    expect(await t.sql('SELECT 1 FROM otp_early_provider_statuses')).toEqual([]);
  });

  test('attacker: a "delivered" that beat the worker never reaches the CRM — it does, as one otp.delivery.updated DELIVERED with Twilio\'s word', async () => {
    const hold = held();
    twilio.gate = hold.gate;
    twilio.callback = (sid) => twilioCallback(sid, 'delivered');
    const id = await send(['SMS']);
    await waitForRows(t, 'SELECT provider_status FROM otp_early_provider_statuses', [], (rows) => rows.length === 1 && rows[0].provider_status === 'delivered');
    hold.open(); // the worker records the message id and applies the kept status
    const [delivery] = await waitForRows(t, 'SELECT id, provider_message_id FROM otp_deliveries WHERE otp_request_id = $1', [id], (rows) => rows[0]?.provider_message_id);
    const updates = await waitForRows(t, `SELECT data FROM event_outbox WHERE subject = $1 AND type = 'otp.delivery.updated' ORDER BY id`, [`otp_request:${id}`],
      (rows) => rows.some((r: any) => r.data.status === 'DELIVERED'));
    expect(updates.map((r: any) => r.data.status)).toEqual(['QUEUED', 'SENT', 'DELIVERED']);
    expect(updates[2].data).toEqual({
      otpRequestId: id, deliveryId: delivery.id, channel: 'SMS', status: 'DELIVERED', provider: 'twilio', providerMessageId: delivery.provider_message_id,
      providerStatus: 'delivered', errorCategory: null, attempts: 1,
    });
  });

  test('WhatsApp "failed" arriving first makes the delivery FAILED with the provider\'s reason', async () => {
    whatsapp.callback = (id) => whatsappCallback(id, 'failed');
    const id = await send(['WHATSAPP']);
    const [row] = await waitForRows(t, 'SELECT status, error, error_category FROM otp_deliveries WHERE otp_request_id = $1', [id], (rows) => rows[0]?.status === 'FAILED');
    expect(row).toEqual({ status: 'FAILED', error: 'WhatsApp reported failed: Message undeliverable.', error_category: 'UNDELIVERED' });
    expect(whatsapp.callbackStatuses.at(-1)).toBe(200);
  });

  test('Twilio "undelivered" on SMS and WhatsApp "read" on the same request each reach their own delivery', async () => {
    twilio.callback = (sid) => twilioCallback(sid, 'undelivered');
    whatsapp.callback = (id) => whatsappCallback(id, 'read');
    const id = await send(['SMS', 'WHATSAPP']);
    const rows = await waitForRows(t, 'SELECT channel, status, error FROM otp_deliveries WHERE otp_request_id = $1 ORDER BY channel', [id],
      (r) => r.length === 2 && r.every((d: any) => d.status === 'DELIVERED' || d.status === 'FAILED'));
    expect(rows).toEqual([
      { channel: 'SMS', status: 'FAILED', error: 'Twilio reported undelivered (error 30003).' },
      { channel: 'WHATSAPP', status: 'DELIVERED', error: null },
    ]);
  });

  test('a kept status past its age is not applied: the delivery stays SENT', async () => {
    const hold = held();
    twilio.gate = hold.gate;
    twilio.callback = (sid) => twilioCallback(sid, 'delivered');
    const id = await send(['SMS']);
    await waitForRows(t, 'SELECT 1 FROM otp_early_provider_statuses', [], (rows) => rows.length === 1);
    await t.sql("UPDATE otp_early_provider_statuses SET expires_at = now() - interval '1 second'"); // aged past OTP_EARLY_CALLBACK_TTL_SECONDS
    hold.open();
    const [row] = await waitForRows(t, 'SELECT status FROM otp_deliveries WHERE otp_request_id = $1', [id], (rows) => rows[0]?.status !== 'QUEUED' && rows[0]?.status !== 'SENDING');
    expect(row.status).toBe('SENT');
  });
});

describe('a callback racing the worker', () => {
  test('the callback missed the id, then the worker recorded it before the callback could keep its status: still applied', async () => {
    // a second session holds the kept-status table, so the callback (its first UPDATE found no delivery) and the worker
    // (it recorded the id, then looks for kept statuses) both wait there; the worker's record is committed by then
    const lock = new Client({ connectionString: t.databaseUrl });
    await lock.connect();
    await lock.query('BEGIN');
    await lock.query('LOCK TABLE otp_early_provider_statuses IN EXCLUSIVE MODE');
    let id = '';
    try {
      const hold = held();
      twilio.gate = hold.gate;
      twilio.awaitCallback = false;
      twilio.callback = (sid) => twilioCallback(sid, 'delivered');
      id = await send(['SMS']);
      const waiting = "SELECT query FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%otp_early_provider_statuses%'";
      await waitForRows(t, waiting, [], (rows) => rows.length === 1); // the callback: its UPDATE found no delivery with the id
      hold.open(); // now the provider answers and the worker records the id
      await waitForRows(t, "SELECT status FROM otp_deliveries WHERE otp_request_id = $1", [id], (rows) => rows[0]?.status === 'SENT');
      await waitForRows(t, waiting, [], (rows) => rows.length === 2); // the worker, looking for a kept status
    } finally {
      await lock.query('COMMIT');
      await lock.end();
    }
    await waitForRows(t, 'SELECT status FROM otp_deliveries WHERE otp_request_id = $1', [id], (rows) => rows[0]?.status === 'DELIVERED');
    expect(await t.sql('SELECT 1 FROM otp_early_provider_statuses')).toEqual([]);
  });
});

describe('callbacks for ids no delivery will ever carry (a flood of forged-but-signed or foreign message ids)', () => {
  test(`at most ${MAX_KEPT} are kept, every one is answered as usual, and aged ones make room`, async () => {
    const statuses = [];
    for (let i = 0; i < MAX_KEPT + 3; i += 1) statuses.push(await twilioCallback(`SM${randomBytes(16).toString('hex')}`, 'delivered'));
    expect(statuses).toEqual(Array(MAX_KEPT + 3).fill(204));
    expect(await t.sql('SELECT count(*)::int AS n FROM otp_early_provider_statuses')).toEqual([{ n: MAX_KEPT }]);
    await t.sql("UPDATE otp_early_provider_statuses SET expires_at = now() - interval '1 second'");
    expect(await twilioCallback(`SM${randomBytes(16).toString('hex')}`, 'failed')).toBe(204);
    expect(await t.sql('SELECT count(*)::int AS n FROM otp_early_provider_statuses')).toEqual([{ n: 1 }]);
  });

  test('a late callback for a delivery already past SENT is neither applied nor kept', async () => {
    let sid = '';
    twilio.callback = async (id) => { sid = id; return twilioCallback(id, 'delivered'); };
    const id = await send(['SMS']);
    await waitForRows(t, 'SELECT status FROM otp_deliveries WHERE otp_request_id = $1', [id], (rows) => rows[0]?.status === 'DELIVERED');
    twilio.callback = null;
    expect(await twilioCallback(sid, 'failed')).toBe(204);
    expect(await t.sql('SELECT status FROM otp_deliveries WHERE otp_request_id = $1', [id])).toEqual([{ status: 'DELIVERED' }]);
    expect(await t.sql('SELECT 1 FROM otp_early_provider_statuses')).toEqual([]);
  });
});
