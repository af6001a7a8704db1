import { createHmac } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { loadConfig } from '../../src/core/config';
import { startApp, type RunningApp } from '../../src/app/server';
import { until } from '../support/poll';
import { createWebhookEndpoint, startWebhookReceiver, subscribe, subscriptionClient, type WebhookReceiver } from '../support/events';
import { startTestServer, type TestServer } from '../support/test-server';
import { FakeHttpProvider } from './fake-providers';
import { CANCEL, RESEND, SEND, VERIFY, freshMobile, restGet, restPost, waitForRows } from './otp-helpers';

/**
 * Channel fallback (issue 12 item 4): a workflow's later step goes out only while the OTP is still pending, with the
 * same code, as an `otp.fallback` event; the steps live in Postgres, so a restart keeps them.
 */

const twilio = new FakeHttpProvider((n) => ({ sid: `SM${String(n).padStart(32, '0')}`, status: 'queued' }));
const whatsapp = new FakeHttpProvider((n) => ({ messaging_product: 'whatsapp', messages: [{ id: `wamid.FALLBACK${n}` }] }));
let providers: Record<string, string>;
const WA_SECRET = 'whatsapp-app-secret-for-fallback-tests';
let t: TestServer;
let receiver: WebhookReceiver;
let webhookSecret: string;

beforeAll(async () => {
  const [twilioUrl, whatsappUrl] = await Promise.all([twilio.start(), whatsapp.start()]);
  providers = {
    SMS_PROVIDER: 'twilio', TWILIO_ACCOUNT_SID: 'AC0123456789abcdef0123456789abcdef', TWILIO_AUTH_TOKEN: 'token', TWILIO_FROM: '+15005550006', TWILIO_BASE_URL: twilioUrl,
    WHATSAPP_PROVIDER: 'meta', WHATSAPP_TOKEN: 'meta-token', WHATSAPP_PHONE_NUMBER_ID: '1234567890', WHATSAPP_BASE_URL: `${whatsappUrl}/v21.0`,
  };
  t = await startTestServer('otp_fallback', {
    ...providers, OTP_RESEND_COOLDOWN_SECONDS: '0', OTP_SEND_LIMIT_PER_KEY_MINUTE: '1000', OTP_DELIVERY_RETRY_LIMIT: '0', WHATSAPP_APP_SECRET: WA_SECRET,
    WEBHOOKS_ALLOW_PRIVATE: 'true', WEBHOOK_POLL_INTERVAL_MS: '50',
  });
  receiver = await startWebhookReceiver();
  const created = await createWebhookEndpoint(t, { url: receiver.url, eventTypes: ['otp.fallback', 'otp.delivery.updated'] });
  webhookSecret = created.body.data.createWebhookEndpoint.secret;
});
afterAll(async () => {
  await t?.close();
  await receiver?.close();
  await Promise.all([twilio.stop(), whatsapp.stop()]);
});

/** The codes the providers received for a mobile number (without its country code), per channel, in order. */
function codesTo(mobileNo: string): { whatsapp: string[]; sms: string[] } {
  return {
    whatsapp: whatsapp.received.map((r) => JSON.parse(r.body)).filter((b) => b.to === `91${mobileNo}`).map((b) => b.template.components[0].parameters[0].text),
    sms: twilio.received.map((r) => new URLSearchParams(r.body)).filter((f) => f.get('To') === `+91${mobileNo}`)
      .map((f) => /(\w+) is your verification code/.exec(f.get('Body')!)![1]),
  };
}

const WHATSAPP_THEN_SMS = (wait: number) => [{ channel: 'WHATSAPP' }, { channel: 'SMS', waitSeconds: wait }];

async function sendWorkflow(mobileNo: string, workflow: unknown[], extra: Record<string, unknown> = {}) {
  const res = await t.gql(SEND, { input: { mobileNo, workflow, source: 'fallback_test', type: 'simple_otp', ...extra } });
  expect(res.body.errors).toBeUndefined();
  expect(res.body.data.sendOtp.userErrors).toEqual([]);
  return res.body.data.sendOtp.otpRequest;
}

function deliveries(id: string) {
  return t.sql('SELECT * FROM otp_deliveries WHERE otp_request_id = $1 ORDER BY created_at, workflow_step NULLS FIRST', [id]);
}

/** Waits until the request's delivery on `channel` is final (its job ran), and returns it. */
async function settled(id: string, channel: string, server: Pick<TestServer, 'sql'> = t) {
  const rows = await waitForRows(server as TestServer, 'SELECT * FROM otp_deliveries WHERE otp_request_id = $1 AND channel = $2 ORDER BY created_at DESC', [id, channel],
    (r) => r.length > 0 && ['SENT', 'FAILED', 'SKIPPED', 'DELIVERED'].includes(r[0].status), 30_000);
  return rows[0];
}

async function whatsappCode(mobileNo: string): Promise<string> {
  return until('the WhatsApp message', () => codesTo(mobileNo).whatsapp[0], 20_000);
}

describe('channel fallback: successful cases', () => {
  test('a recipient who never typed the WhatsApp code gets the same code by SMS once the wait is over, announced as otp.fallback without the code', async () => {
    const mobileNo = freshMobile();
    const request = await sendWorkflow(mobileNo, WHATSAPP_THEN_SMS(1));
    expect(request.channels).toEqual(['WHATSAPP', 'SMS']);
    expect(request.deliveries.map((d: any) => [d.channel, d.status])).toEqual([['WHATSAPP', 'QUEUED'], ['SMS', 'SCHEDULED']]);
    const [first, step] = await deliveries(request.id);
    expect(step).toMatchObject({ workflow_step: 1, status: 'SCHEDULED' });
    expect(first.workflow_step).toBe(0);
    expect(step.scheduled_at.getTime() - step.created_at.getTime()).toBe(1000); // both the database's clock

    const sms = await settled(request.id, 'SMS');
    expect(sms).toMatchObject({ status: 'SENT', provider: 'twilio', attempts: 1, code_sealed: null });
    expect(sms.sent_at.getTime()).toBeGreaterThanOrEqual(step.scheduled_at.getTime());
    const codes = codesTo(mobileNo);
    expect(codes.sms).toEqual(codes.whatsapp); // one code across the steps
    expect(codes.sms).toHaveLength(1);

    const hook = await until('the otp.fallback webhook', () => receiver.received.find((h) => h.body.includes('"otp.fallback"') && h.body.includes(request.id)), 20_000);
    const event = new Webhook(webhookSecret).verify(hook.body, hook.headers) as { type: string; data: Record<string, unknown> };
    expect(event.data).toEqual({ otpRequestId: request.id, deliveryId: sms.id, step: 1, fromChannel: 'WHATSAPP', toChannel: 'SMS', scheduledAt: step.scheduled_at.toISOString() });
    expect(hook.body).not.toContain(codes.sms[0]);
    expect(hook.body).not.toContain(mobileNo);

    const verified = await t.gql(VERIFY, { input: { otpRequestId: request.id, code: codes.sms[0] } });
    expect(verified.body.data.verifyOtp.verified).toBe(true);
  });

  test('a send is still one message after the screen: the steps, their delayed jobs and events commit together', async () => {
    const mobileNo = freshMobile();
    const request = await sendWorkflow(mobileNo, [{ channel: 'WHATSAPP' }, { channel: 'SMS', waitSeconds: 300 }]);
    const jobs = await t.sql(`SELECT j.data->>'deliveryId' AS delivery, extract(epoch FROM j.start_after - d.created_at)::int AS after
                                FROM pgboss.job j JOIN otp_deliveries d ON d.id = (j.data->>'deliveryId')::uuid WHERE d.otp_request_id = $1 ORDER BY after`, [request.id]);
    expect(jobs.map((j) => j.after)).toEqual([0, 300]);
    const events = await t.sql(`SELECT type, data FROM event_outbox WHERE subject = $1 ORDER BY id`, [`otp_request:${request.id}`]);
    expect(events.map((e) => [e.type, e.data.status ?? null, e.data.queuedChannels ?? null])).toEqual([
      ['otp.sent', 'PENDING', ['WHATSAPP']], ['otp.delivery.updated', 'QUEUED', null], ['otp.delivery.updated', 'SCHEDULED', null],
    ]);
    await t.gql(CANCEL, { id: request.id });
  });

  test('the REST twin takes the workflow as an array with wait_seconds and GET shows each step', async () => {
    const mobileNo = freshMobile();
    const sent = await restPost(t, '/api/send-otp', {
      mobile_no: mobileNo, source: 'fallback_rest', type: 'simple_otp', workflow: [{ channel: 'whatsapp' }, { channel: 'sms', wait_seconds: 1 }],
    });
    expect(sent.status).toBe(200);
    expect(sent.body.data.channels).toEqual(['whatsapp', 'sms']);
    const id = sent.body.data.otp_request_id;
    await settled(id, 'SMS');
    const got = await restGet(t, `/api/otp/${id}`);
    expect(got.body.data.deliveries.map((d: any) => [d.channel, d.status, d.workflow_step, d.scheduled_at !== null])).toEqual([
      ['whatsapp', 'SENT', 0, false], ['sms', 'SENT', 1, true],
    ]);
    const codes = codesTo(mobileNo);
    expect(codes.sms).toEqual(codes.whatsapp);
  });
});

describe('a WhatsApp step that failed for good: the recipient need not wait for the SMS step', () => {
  afterEach(() => { whatsapp.mode = 'ok'; });

  async function dueNow(id: string) {
    const [step] = await t.sql(`SELECT status, scheduled_at <= now() + interval '5 seconds' AS soon FROM otp_deliveries WHERE otp_request_id = $1 AND workflow_step = 1`, [id]);
    return step;
  }

  test('Meta refuses the message: the SMS step (due in 5 minutes) goes out at once, with the same code', async () => {
    whatsapp.mode = 'reject';
    const mobileNo = freshMobile();
    const request = await sendWorkflow(mobileNo, WHATSAPP_THEN_SMS(300));
    expect(await settled(request.id, 'WHATSAPP')).toMatchObject({ status: 'FAILED', error_category: 'PROVIDER_REJECTED' });
    expect(await settled(request.id, 'SMS')).toMatchObject({ status: 'SENT' });
    const codes = codesTo(mobileNo);
    expect(codes.sms).toEqual(codes.whatsapp);
    const events = await t.sql(`SELECT type FROM event_outbox WHERE subject = $1 AND type = 'otp.fallback'`, [`otp_request:${request.id}`]);
    expect(events).toHaveLength(1);
  });

  test('WhatsApp reports the message undeliverable (signed callback): the SMS step goes out at once', async () => {
    const mobileNo = freshMobile();
    const request = await sendWorkflow(mobileNo, WHATSAPP_THEN_SMS(300));
    const sent = await settled(request.id, 'WHATSAPP');
    expect(sent.status).toBe('SENT');
    expect(await dueNow(request.id)).toEqual({ status: 'SCHEDULED', soon: false });
    const payload = JSON.stringify({ object: 'whatsapp_business_account', entry: [{ changes: [{ value: { statuses: [{ id: sent.provider_message_id, status: 'failed', errors: [{ code: 131026, title: 'Message undeliverable' }] }] } }] }] });
    const answer = await fetch(`${t.url}/webhooks/whatsapp`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${createHmac('sha256', WA_SECRET).update(payload).digest('hex')}` }, body: payload,
    });
    expect(answer.status).toBe(200);
    expect(await settled(request.id, 'SMS')).toMatchObject({ status: 'SENT' });
    expect(codesTo(mobileNo).sms).toEqual(codesTo(mobileNo).whatsapp);
  });

  test('a first step that failed only because the OTP was verified first brings nothing forward, and nothing is sent', async () => {
    const mobileNo = freshMobile();
    const request = await sendWorkflow(mobileNo, WHATSAPP_THEN_SMS(300), { otpCode: '8642' });
    await t.gql(VERIFY, { input: { otpRequestId: request.id, code: '8642' } }); // before the worker's turn came
    const first = await settled(request.id, 'WHATSAPP');
    if (first.status === 'FAILED') {
      expect(first.error_category).toBe('REQUEST_CLOSED');
      expect(await dueNow(request.id)).toEqual({ status: 'SCHEDULED', soon: false }); // it will be SKIPPED in its time
    }
    expect(codesTo(mobileNo).sms).toEqual([]);
  });
});

describe('channel fallback: the later step never sends what it must not', () => {
  test('a recipient who verified within the wait gets no SMS, ever: the step is SKIPPED once its time came', async () => {
    const mobileNo = freshMobile();
    const request = await sendWorkflow(mobileNo, WHATSAPP_THEN_SMS(2));
    const code = await whatsappCode(mobileNo);
    expect((await t.gql(VERIFY, { input: { otpRequestId: request.id, code } })).body.data.verifyOtp.verified).toBe(true);
    const sms = await settled(request.id, 'SMS');
    expect(sms).toMatchObject({ status: 'SKIPPED', error_category: 'REQUEST_CLOSED', code_sealed: null, attempts: 0, sent_at: null });
    // its time passed and its job ran (completed just after the statement that settled the delivery)
    await until('the step\'s job to complete', async () => (await t.sql(`SELECT state FROM pgboss.job WHERE data->>'deliveryId' = $1`, [sms.id]))[0]?.state === 'completed', 20_000);
    expect(codesTo(mobileNo).sms).toEqual([]);
    const skippedHook = () => receiver.received.filter((h) => h.body.includes(request.id) && h.body.includes('"SKIPPED"'));
    await until('the SKIPPED webhook', () => skippedHook().length > 0, 20_000);
    expect(skippedHook()).toHaveLength(1);
    expect(receiver.received.some((h) => h.body.includes(request.id) && h.body.includes('"otp.fallback"'))).toBe(false);
  });

  test('a canceled OTP and a superseded one send nothing on their later steps', async () => {
    const [canceledNo, supersededNo] = [freshMobile(), freshMobile()];
    const canceled = await sendWorkflow(canceledNo, WHATSAPP_THEN_SMS(1));
    const superseded = await sendWorkflow(supersededNo, WHATSAPP_THEN_SMS(1));
    expect((await t.gql(CANCEL, { id: canceled.id })).body.data.cancelOtp.otpRequest.status).toBe('CANCELED');
    const replacement = await t.gql(SEND, { input: { mobileNo: supersededNo, channels: ['WHATSAPP'], source: 'fallback_test', type: 'simple_otp' } });
    expect(replacement.body.data.sendOtp.userErrors).toEqual([]);
    for (const id of [canceled.id, superseded.id]) expect(await settled(id, 'SMS')).toMatchObject({ status: 'SKIPPED', code_sealed: null });
    expect(codesTo(canceledNo).sms).toEqual([]);
    expect(codesTo(supersededNo).sms).toEqual([]);
  });

  test('an OTP that expired before its step was due sends nothing on that step', async () => {
    const mobileNo = freshMobile();
    const request = await sendWorkflow(mobileNo, WHATSAPP_THEN_SMS(2));
    await t.sql(`UPDATE otp_requests SET expires_at = now() WHERE id = $1`, [request.id]); // its validity ran out meanwhile
    expect(await settled(request.id, 'SMS')).toMatchObject({ status: 'SKIPPED' });
    expect(codesTo(mobileNo).sms).toEqual([]);
  });

  test('a resend with a new code before the step: the SMS step carries the new code, the old one never goes out by SMS', async () => {
    const mobileNo = freshMobile();
    const request = await sendWorkflow(mobileNo, WHATSAPP_THEN_SMS(2));
    const oldCode = await whatsappCode(mobileNo);
    const resent = await t.gql(RESEND, { id: request.id, channels: ['WHATSAPP'] });
    expect(resent.body.data.resendOtp.userErrors).toEqual([]);
    const newCode = await until('the second WhatsApp message', () => codesTo(mobileNo).whatsapp[1], 20_000);
    expect(newCode).not.toBe(oldCode);
    expect(await settled(request.id, 'SMS')).toMatchObject({ status: 'SENT' });
    expect(codesTo(mobileNo).sms).toEqual([newCode]);
    expect((await t.gql(VERIFY, { input: { otpRequestId: request.id, code: newCode } })).body.data.verifyOtp.verified).toBe(true);
  });

  test('a resend on every channel before the step sends the SMS once, now: the scheduled SMS step is SKIPPED', async () => {
    const mobileNo = freshMobile();
    const request = await sendWorkflow(mobileNo, WHATSAPP_THEN_SMS(2));
    await whatsappCode(mobileNo);
    expect((await t.gql(RESEND, { id: request.id })).body.data.resendOtp.userErrors).toEqual([]);
    const rows = await waitForRows(t, `SELECT channel, status, workflow_step FROM otp_deliveries WHERE otp_request_id = $1 ORDER BY created_at, workflow_step NULLS LAST`, [request.id],
      (r) => r.every((d) => ['SENT', 'SKIPPED'].includes(d.status)));
    expect(rows).toEqual([
      { channel: 'WHATSAPP', status: 'SENT', workflow_step: 0 }, { channel: 'SMS', status: 'SKIPPED', workflow_step: 1 },
      { channel: 'WHATSAPP', status: 'SENT', workflow_step: null }, { channel: 'SMS', status: 'SENT', workflow_step: null },
    ]);
    // past the step's time its job has run and found nothing to send
    await until('the skipped step\'s job to run', async () => (await t.sql(`SELECT j.state FROM pgboss.job j JOIN otp_deliveries d ON d.id = (j.data->>'deliveryId')::uuid
                                                                              WHERE d.otp_request_id = $1 AND d.workflow_step = 1`, [request.id]))[0]?.state === 'completed', 20_000);
    expect(codesTo(mobileNo).sms).toHaveLength(1);
  });

  test('20 races of a verify against the step falling due never give "verified, then the SMS step sent"', async () => {
    const rounds = await Promise.all(Array.from({ length: 20 }, async () => {
      const mobileNo = freshMobile();
      const request = await sendWorkflow(mobileNo, WHATSAPP_THEN_SMS(1));
      const code = await whatsappCode(mobileNo);
      const [{ due }] = await t.sql(`SELECT extract(epoch FROM scheduled_at - now()) * 1000 AS due FROM otp_deliveries WHERE otp_request_id = $1 AND workflow_step = 1`, [request.id]);
      // the worker looks every 500 ms: verify somewhere in the window in which it claims the step
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(due)) + Math.random() * 600));
      const verified = (await t.gql(VERIFY, { input: { otpRequestId: request.id, code } })).body.data.verifyOtp.verified;
      return { id: request.id, mobileNo, verified };
    }));
    const outcomes = { sent: 0, skipped: 0 };
    for (const round of rounds) {
      expect(round.verified).toBe(true);
      const sms = await settled(round.id, 'SMS');
      const events = await t.sql(`SELECT type FROM event_outbox WHERE subject = $1 AND type IN ('otp.fallback', 'otp.verified') ORDER BY id`, [`otp_request:${round.id}`]);
      if (sms.status === 'SKIPPED') {
        outcomes.skipped += 1;
        expect(events.map((e) => e.type)).toEqual(['otp.verified']);
        expect(codesTo(round.mobileNo).sms).toEqual([]);
      } else {
        outcomes.sent += 1;
        expect(sms.status).toBe('SENT');
        // the step was taken before the verify committed (the claim held the request FOR SHARE)
        expect(events.map((e) => e.type)).toEqual(['otp.fallback', 'otp.verified']);
      }
    }
    expect(outcomes.sent + outcomes.skipped).toBe(20);
  });

  test('a subscriber sees the step SCHEDULED, then SKIPPED once the verified OTP\'s step fell due', async () => {
    const mobileNo = freshMobile();
    const request = await sendWorkflow(mobileNo, WHATSAPP_THEN_SMS(2));
    const client = subscriptionClient(t.url, t.adminKey);
    const sub = subscribe(client, 'subscription($id: ID!) { otpRequestUpdated(id: $id) { status deliveries { channel status workflowStep scheduledAt } } }', { id: request.id });
    try {
      await until('the first answer', () => sub.results.length > 0, 10_000);
      expect(sub.results[0].data.otpRequestUpdated.deliveries[1]).toMatchObject({ channel: 'SMS', status: 'SCHEDULED', workflowStep: 1, scheduledAt: expect.any(String) });
      const code = await whatsappCode(mobileNo);
      await t.gql(VERIFY, { input: { otpRequestId: request.id, code } });
      await until('SKIPPED', () => sub.results.some((r) => r.data?.otpRequestUpdated.deliveries[1]?.status === 'SKIPPED'), 20_000);
    } finally {
      sub.stop();
      await client.dispose();
    }
  });
});

describe('channel fallback: refused workflows (nothing written)', () => {
  async function refused(input: Record<string, unknown>) {
    const before = await t.sql(`SELECT (SELECT count(*) FROM otp_requests)::int AS requests, (SELECT count(*) FROM otp_deliveries)::int AS deliveries, (SELECT count(*) FROM pgboss.job)::int AS jobs`);
    const res = await t.gql(SEND, { input: { source: 'fallback_test', type: 'simple_otp', ...input } });
    expect(res.body.data.sendOtp.otpRequest).toBeNull();
    expect(await t.sql(`SELECT (SELECT count(*) FROM otp_requests)::int AS requests, (SELECT count(*) FROM otp_deliveries)::int AS deliveries, (SELECT count(*) FROM pgboss.job)::int AS jobs`)).toEqual(before);
    return res.body.data.sendOtp.userErrors.map((e: any) => [e.field.join('.'), e.message]);
  }

  test('a workflow with a first step that waits, a repeated channel, a step past the expiry and no mobile for its SMS step: every field at once', async () => {
    expect(await refused({ workflow: [{ channel: 'SMS', waitSeconds: 5 }, { channel: 'SMS', waitSeconds: 30 }, { channel: 'WHATSAPP', waitSeconds: 570 }, ] })).toEqual([
      ['input.workflow.0.waitSeconds', 'The workflow.0.wait seconds field must be 0: the first step is sent at once.'],
      ['input.workflow.1.channel', 'The workflow.1.channel field has a duplicate value.'],
      ['input.workflow.2.waitSeconds', 'The workflow.2.wait seconds field makes this step due 600 seconds after the send, when the OTP (valid 600 seconds) has expired.'],
      ['input.mobileNo', 'The mobile no field is required when channel is sms.'],
    ]);
  });

  test('four steps, a later step without a wait or with 0, and an email step without the email fields', async () => {
    expect(await refused({ mobileNo: freshMobile(), workflow: [{ channel: 'SMS' }, { channel: 'WHATSAPP', waitSeconds: 1 }, { channel: 'EMAIL', waitSeconds: 1 }, { channel: 'SMS', waitSeconds: 1 }] }))
      .toEqual([['input.workflow', 'The workflow field must not have more than 3 items.']]);
    expect(await refused({ mobileNo: freshMobile(), workflow: [{ channel: 'SMS' }, { channel: 'WHATSAPP' }, { channel: 'EMAIL', waitSeconds: 0 }] })).toEqual([
      ['input.workflow.1.waitSeconds', 'The workflow.1.wait seconds field is required.'],
      ['input.workflow.2.waitSeconds', 'The workflow.2.wait seconds field must be at least 1.'],
      ['input.email', 'The email field is required when channel is email.'],
      ['input.emailFromName', 'The email from name field is required when channel is email.'],
      ['input.emailSubject', 'The email subject field is required when channel is email.'],
      ['input.emailTemplateId', 'The email template id field is required when channel is email.'],
    ]);
  });

  test('channels and a workflow together, or neither, are refused naming the fields', async () => {
    expect(await refused({ mobileNo: freshMobile(), channels: ['SMS'], workflow: [{ channel: 'SMS' }] })).toEqual([
      ['input.channels', 'The channel field prohibits workflow from being present.'],
      ['input.workflow', 'The workflow field prohibits channel from being present.'],
    ]);
    expect(await refused({ mobileNo: freshMobile() })).toEqual([['input.channels', 'The channel field is required.']]);
    expect(await refused({ mobileNo: freshMobile(), workflow: [] })).toEqual([['input.workflow', 'The workflow field must have at least 1 items.']]);
  });

  test('REST: an unknown channel, a wait of text, a wait over 600 and a step that is not an object are each named under the partner keys', async () => {
    const answer = await restPost(t, '/api/send-otp', {
      mobile_no: freshMobile(), source: 'fallback_rest', type: 'simple_otp',
      workflow: [{ channel: 'telegram' }, { channel: 'sms', wait_seconds: 'soon' }, 'email'],
    });
    expect(answer.status).toBe(422);
    expect(answer.body.errors).toEqual({
      'workflow.0.channel': ['The selected workflow.0.channel is invalid.'],
      'workflow.1.wait_seconds': ['The workflow.1.wait seconds field must be an integer.'],
      'workflow.2': ['The workflow.2 field must be an array.'],
    });
    const both = await restPost(t, '/api/send-otp', {
      mobile_no: freshMobile(), channel: 'sms', source: 'fallback_rest', type: 'simple_otp', workflow: 'sms',
    });
    expect(both.body.errors).toEqual({
      channel: ['The channel field prohibits workflow from being present.'], workflow: ['The workflow field prohibits channel from being present.'],
    });
    const far = await restPost(t, '/api/send-otp', {
      mobile_no: freshMobile(), source: 'fallback_rest', type: 'simple_otp', workflow: [{ channel: 'sms', wait_seconds: 0 }, { channel: 'whatsapp', wait_seconds: 601 }],
    });
    expect(far.body.errors).toEqual({ 'workflow.1.wait_seconds': ['The workflow.1.wait seconds field must not be greater than 600.'] });
  });
});

describe('channel fallback survives a restart', () => {
  let first: TestServer;
  let second: RunningApp | null = null;
  afterAll(async () => {
    await second?.stop();
    await first?.close();
  });

  test('a step scheduled by a server that stopped is sent by the next one to start, with the first step\'s code', async () => {
    first = await startTestServer('otp_fallback_restart', providers);
    const mobileNo = freshMobile();
    const sent = await first.gql(SEND, { input: { mobileNo, workflow: WHATSAPP_THEN_SMS(2), source: 'fallback_restart', type: 'simple_otp' } });
    const id = sent.body.data.sendOtp.otpRequest.id;
    const code = await whatsappCode(mobileNo);
    await first.app.stop(); // nothing of the step is in its memory
    const [step] = await first.sql(`SELECT status FROM otp_deliveries WHERE otp_request_id = $1 AND workflow_step = 1`, [id]);
    expect(step.status).toBe('SCHEDULED');
    expect(codesTo(mobileNo).sms).toEqual([]);

    second = await startApp(loadConfig({
      NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', DATABASE_URL: first.databaseUrl, LOG_LEVEL: 'silent', SECRET_KEY: first.secretKey,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'countersign-test-data-')), ...providers,
    }));
    expect(await settled(id, 'SMS', first)).toMatchObject({ status: 'SENT' });
    expect(codesTo(mobileNo).sms).toEqual([code]);
  });
});
