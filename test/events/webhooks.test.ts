import { Webhook } from 'standardwebhooks';
import { until } from '../support/poll';
import { startTestServer, type TestServer } from '../support/test-server';
import {
  createWebhookEndpoint, replayWebhookDelivery, startWebhookReceiver, updateWebhookEndpoint, webhookEndpoint, type WebhookReceiver,
} from '../support/events';
import { freshMobile, GET, SEND, VERIFY } from '../otp/otp-helpers';

/** Domain events out as Standard Webhooks, checked from the receiver's side with an independent implementation. */

let t: TestServer;
let receiver: WebhookReceiver;

beforeAll(async () => {
  t = await startTestServer('events_webhooks', { WEBHOOKS_ALLOW_PRIVATE: 'true', WEBHOOK_POLL_INTERVAL_MS: '50' });
  receiver = await startWebhookReceiver();
});

afterAll(async () => {
  await t?.close();
  await receiver?.close();
});

function verified(secret: string, hook: { headers: Record<string, string>; body: string }): { type: string; timestamp: string; data: Record<string, any> } {
  return new Webhook(secret).verify(hook.body, hook.headers) as { type: string; timestamp: string; data: Record<string, any> };
}

async function sendAndVerify(code: string): Promise<string> {
  const sent = await t.gql(SEND, { input: { mobileNo: freshMobile(), channels: ['SMS'], source: 'events_test', type: 'simple_otp', otpCode: code } });
  const id: string = sent.body.data.sendOtp.otpRequest.id;
  // the worker's SENT is its own event; waiting for it keeps the expected order independent of the worker's speed
  await until('the SMS to be sent', async () => (await t.gql(GET, { id })).body.data.otpRequest.deliveries[0]?.status === 'SENT', 20_000);
  const ok = await t.gql(VERIFY, { input: { otpRequestId: id, code } });
  expect(ok.body.data.verifyOtp.verified).toBe(true);
  return id;
}

describe('a receiver checking signatures with the standardwebhooks package', () => {
  let secret: string;
  let endpointId: string;

  beforeAll(async () => {
    const created = await createWebhookEndpoint(t, { url: receiver.url, eventTypes: ['otp.sent', 'otp.delivery.updated', 'otp.verified'] });
    expect(created.body.data.createWebhookEndpoint.userErrors).toEqual([]);
    secret = created.body.data.createWebhookEndpoint.secret;
    endpointId = created.body.data.createWebhookEndpoint.webhookEndpoint.id;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
  });

  test('sees every event of a send→verify run exactly once, in order, signed, with no code in any payload', async () => {
    const id = await sendAndVerify('740312');
    const mine = () => receiver.received.filter((hook) => hook.body.includes(id));
    await until('the otp.verified webhook', () => mine().some((hook) => hook.body.includes('"otp.verified"')), 20_000);
    const events = mine().map((hook) => verified(secret, hook));
    expect(events.map((e) => [e.type, e.data.status])).toEqual([
      ['otp.sent', 'PENDING'], ['otp.delivery.updated', 'QUEUED'], ['otp.delivery.updated', 'SENT'], ['otp.verified', 'VERIFIED'],
    ]);
    expect(new Set(mine().map((hook) => hook.headers['webhook-id'])).size).toBe(4);
    for (const hook of mine()) {
      expect(hook.body).not.toContain('740312');
      expect(hook.body).not.toMatch(/code_?hash|sealed|secret/i);
      expect(hook.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    }
    expect(events[0].data).toMatchObject({ otpRequestId: id, channels: ['SMS'], mobile: expect.stringMatching(/^\*+\d{4}$/) });
  });

  test('a signature made with another secret, or a body changed on the way, is refused by the receiver\'s check', async () => {
    const hook = receiver.received[0];
    expect(() => new Webhook(`whsec_${Buffer.alloc(32, 7).toString('base64')}`).verify(hook.body, hook.headers)).toThrow();
    expect(() => new Webhook(secret).verify(hook.body.replace('otp.', 'otq.'), hook.headers)).toThrow();
  });

  test('a receiver down for a while gets the deliveries after it comes back, and the log shows each attempt', async () => {
    receiver.answer(503);
    const before = receiver.received.length;
    const id = await sendAndVerify('552190');
    await until('a refused attempt', () => receiver.received.slice(before).some((hook) => hook.answered === 503), 20_000);
    receiver.answer(200);
    t.app.services.clock.advance(6_000); // past the first backoff step (5 s)
    await until('the otp.verified webhook after the outage', () => receiver.received.some((hook) => hook.answered === 200 && hook.body.includes(id) && hook.body.includes('"otp.verified"')), 20_000);
    const delivered = receiver.received.filter((hook) => hook.answered === 200 && hook.body.includes(id)).map((hook) => verified(secret, hook).type);
    expect(delivered).toEqual(['otp.sent', 'otp.delivery.updated', 'otp.delivery.updated', 'otp.verified']);

    const log = (await webhookEndpoint(t, endpointId)).deliveries.filter((d) => d.status === 'SUCCEEDED');
    const first = log.find((d) => d.attempts === 2)!;
    expect(first.attemptLog).toEqual([
      expect.objectContaining({ attempt: 1, succeeded: false, responseCode: 503, error: 'The endpoint answered HTTP 503.' }),
      expect.objectContaining({ attempt: 2, succeeded: true, responseCode: 200, error: null }),
    ]);
    expect(first.attemptLog[0].durationMs).toBeGreaterThanOrEqual(0);
  });

  test('replayWebhookDelivery sends the same message (same webhook-id) again, as a new delivery', async () => {
    const [latest] = (await webhookEndpoint(t, endpointId)).deliveries;
    const replayed = await replayWebhookDelivery(t, latest.id);
    expect(replayed.body.data.replayWebhookDelivery.webhookDelivery).toMatchObject({ eventId: latest.eventId, replayOf: latest.id });
    const hooks = () => receiver.received.filter((hook) => hook.headers['webhook-id'] === `msg_${latest.eventId}` && hook.answered === 200);
    await until('the replayed message', () => hooks().length >= 2, 20_000);
    expect(verified(secret, hooks()[1]).type).toBe(latest.eventType);
  });
});

describe('two instances dispatching at once, 10 OTPs sent and verified in parallel', () => {
  test('each OTP\'s events arrive exactly once and in order', async () => {
    const second = await startTestServer('events_webhooks_second', { WEBHOOKS_ALLOW_PRIVATE: 'true', WEBHOOK_POLL_INTERVAL_MS: '50' }, t);
    const parallel = await startWebhookReceiver();
    try {
      const created = await createWebhookEndpoint(t, { url: parallel.url, eventTypes: ['otp.sent', 'otp.verified'] });
      const secret = created.body.data.createWebhookEndpoint.secret;
      const ids = await Promise.all(Array.from({ length: 10 }, async (_, i) => {
        const server = i % 2 ? second : t;
        const code = String(100000 + i);
        const sent = await server.gql(SEND, { input: { mobileNo: freshMobile(), channels: ['SMS'], source: 'events_race', type: 'simple_otp', otpCode: code } });
        const id: string = sent.body.data.sendOtp.otpRequest.id;
        expect((await (i % 3 ? t : second).gql(VERIFY, { input: { otpRequestId: id, code } })).body.data.verifyOtp.verified).toBe(true);
        return id;
      }));
      await until('20 webhooks', () => parallel.received.length >= 20, 20_000);
      const events = parallel.received.map((hook) => verified(secret, hook));
      for (const id of ids) expect(events.filter((e) => e.data.otpRequestId === id).map((e) => e.type)).toEqual(['otp.sent', 'otp.verified']);
      expect(new Set(parallel.received.map((hook) => hook.headers['webhook-id'])).size).toBe(20);
      await updateWebhookEndpoint(t, created.body.data.createWebhookEndpoint.webhookEndpoint.id, { active: false });
    } finally {
      await second.close();
      await parallel.close();
    }
  });
});

describe('an endpoint that fails for 24 hours', () => {
  test('is disabled with the reason visible to the admin, and turning it on again clears the reason', async () => {
    const failing = await startWebhookReceiver();
    failing.answer(500);
    try {
      const created = await createWebhookEndpoint(t, { url: failing.url, eventTypes: ['otp.sent'] });
      const id = created.body.data.createWebhookEndpoint.webhookEndpoint.id;
      await t.gql(SEND, { input: { mobileNo: freshMobile(), channels: ['SMS'], source: 'events_test', type: 'simple_otp' } });
      await until('the first failure', () => failing.received.length >= 1, 20_000);
      // recorded, not only received: the dispatcher reads the clock after the answer, so advancing it before the
      // record would start the 24 hours then (seen under a loaded full run)
      await until('the first failure recorded', async () => (await webhookEndpoint(t, id)).failingSince !== null, 20_000);
      t.app.services.clock.advance(24 * 3600_000 + 1000);
      const disabled = await until('the endpoint to be disabled', async () => {
        const endpoint = await webhookEndpoint(t, id);
        return !endpoint.active && endpoint;
      }, 20_000);
      expect(disabled.disabledReason).toMatch(/every delivery attempt failed for 24 hours .* HTTP 500/i);
      expect(disabled.deliveries[0]).toMatchObject({ status: 'FAILED', attempts: 2 });

      const again = await updateWebhookEndpoint(t, id, { active: true });
      expect(again.body.data.updateWebhookEndpoint.webhookEndpoint).toMatchObject({ active: true, disabledReason: null, failingSince: null });
    } finally {
      await failing.close();
    }
  });
});

describe('someone who is not an admin, or sends bad input', () => {
  test('a USER key cannot list, create or replay', async () => {
    const { key } = await t.keyFor('USER');
    const listed = await t.gql('{ webhookEndpoints { nodes { id } } }', {}, { key });
    expect(listed.body.errors[0].extensions.code).toBe('FORBIDDEN');
    const created = await createWebhookEndpoint(t, { url: receiver.url }, { key });
    expect(created.body.errors[0].extensions.code).toBe('FORBIDDEN');
    const replayed = await replayWebhookDelivery(t, '00000000-0000-4000-8000-000000000000', { key });
    expect(replayed.body.errors[0].extensions.code).toBe('FORBIDDEN');
  });

  test('a bad URL and unknown event types are each reported, and nothing is created', async () => {
    const [{ n: before }] = await t.sql('SELECT count(*)::int AS n FROM webhook_endpoints');
    const created = await createWebhookEndpoint(t, { url: 'ftp://example.com/x', eventTypes: ['otp.sent', 'otp.nope', 'code.leaked'] });
    expect(created.body.data.createWebhookEndpoint).toMatchObject({ webhookEndpoint: null, secret: null });
    expect(created.body.data.createWebhookEndpoint.userErrors.map((e: { field: string[] }) => e.field)).toEqual([
      ['input', 'url'], ['input', 'eventTypes', '1'], ['input', 'eventTypes', '2'],
    ]);
    const withPassword = await createWebhookEndpoint(t, { url: 'https://user:pw@example.com/' });
    expect(withPassword.body.data.createWebhookEndpoint.userErrors[0].message).toMatch(/user name or password/);
    const [{ n: after }] = await t.sql('SELECT count(*)::int AS n FROM webhook_endpoints');
    expect(after).toBe(before);
  });

  test('the secret is stored sealed, never in plain text, and never returned again', async () => {
    const created = await createWebhookEndpoint(t, { url: receiver.url, active: false });
    const { secret, webhookEndpoint: endpoint } = created.body.data.createWebhookEndpoint;
    const [row] = await t.sql('SELECT secret_sealed FROM webhook_endpoints WHERE id = $1', [endpoint.id]);
    expect(row.secret_sealed).toMatch(/^v1:/);
    expect(row.secret_sealed).not.toContain(secret.slice(6, 20));
    const updated = await t.gql('mutation($id: ID!) { updateWebhookEndpoint(id: $id, input: { description: "x" }) { secret } }', { id: endpoint.id });
    expect(updated.body.data.updateWebhookEndpoint.secret).toBeNull();
  });

  test('replaying an id that names nothing is a NOT_FOUND user error', async () => {
    const replayed = await replayWebhookDelivery(t, '00000000-0000-4000-8000-000000000000');
    expect(replayed.body.data.replayWebhookDelivery.userErrors[0].code).toBe('NOT_FOUND');
    const bad = await replayWebhookDelivery(t, 'not-a-uuid');
    expect(bad.body.data.replayWebhookDelivery.userErrors[0].code).toBe('NOT_FOUND');
  });
});
