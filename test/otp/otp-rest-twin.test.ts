import { until } from '../support/poll';
import { startTestServer, type TestServer } from '../support/test-server';
import { GET, freshMobile, restGet, restPost } from './otp-helpers';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer('otp_rest_twin', { OTP_SEND_LIMIT_PER_KEY_MINUTE: '100000', OTP_RESEND_COOLDOWN_SECONDS: '30' });
});
afterAll(() => t.close());

const UNKNOWN_ID = '00000000-0000-4000-8000-00000000abcd';
const NOT_FOUND = { status: false, message: 'No OTP request has this id.', data: { reason: 'NOT_FOUND' } };

async function sendSms(extra: Record<string, unknown> = {}, key: string = t.adminKey): Promise<string> {
  const res = await restPost(t, '/api/send-otp', { mobile_no: freshMobile(), channel: 'sms', source: 'rest_twin', type: 'simple_otp', ...extra }, key);
  expect(res.status).toBe(200);
  return res.body.data.otp_request_id;
}

/** Lets the cooldown pass without waiting for it. */
async function cooledDown(id: string): Promise<void> {
  await t.sql(`UPDATE otp_requests SET last_sent_at = now() - interval '31 seconds' WHERE id = $1`, [id]);
}

async function rowOf(id: string) {
  const [row] = await t.sql('SELECT status, send_count, code_hash, cancel_reason FROM otp_requests WHERE id = $1', [id]);
  return row;
}

describe('REST resend-otp, cancel-otp and GET /api/otp/{id}: successful cases', () => {
  test('GET shows status, per-channel delivery and masked recipients, as GraphQL otpRequest does, and never the code', async () => {
    const mobile = freshMobile();
    const id = await sendSms({ mobile_no: mobile, channel: 'sms|email', email: 'ann@example.com', email_from_name: 'A', email_subject: 'S', email_template_id: 'otp_email', otp_code: '4826' });
    const res = await until('both deliveries sent', async () => {
      const answer = await restGet(t, `/api/otp/${id}`);
      return answer.body.data.deliveries.every((d: { status: string }) => d.status === 'SENT') && answer;
    }, 20000);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: true, message: 'OTP request found',
      data: {
        otp_request_id: id, status: 'PENDING', cancel_reason: null, channels: ['sms', 'email'], masked_mobile_no: `******${mobile.slice(-4)}`,
        masked_email: 'a***@example.com', source: 'rest_twin', type: 'simple_otp', code_length: 4, code_type: 'NUMERIC', attempts: 0,
        max_attempts: 5, send_count: 1, verified_at: null,
        deliveries: [
          { channel: 'sms', status: 'SENT', provider: 'log', attempts: 1, error: null, error_category: null },
          { channel: 'email', status: 'SENT', provider: 'log', attempts: 1, error: null, error_category: null },
        ],
      },
    });
    const text = JSON.stringify(res.body);
    expect(text).not.toContain('4826');
    expect(text).not.toContain((await rowOf(id)).code_hash);
    expect(text).not.toContain(mobile);
    const gql = await t.gql(GET, { id });
    expect(gql.body.data.otpRequest).toMatchObject({ status: res.body.data.status, sendCount: res.body.data.send_count, maskedMobileNo: res.body.data.masked_mobile_no });
  });

  test('resend after the cooldown sends again (on the channels asked for) and the GET shows it; cancel stops the code', async () => {
    const id = await sendSms({ channel: 'sms|whatsapp', otp_code: '2468' });
    await cooledDown(id);
    const resent = await restPost(t, '/api/resend-otp', { otp_request_id: id, channel: 'whatsapp' });
    expect(resent.status).toBe(200);
    expect(resent.body).toEqual({
      status: true, message: 'OTP resent successfully',
      data: { otp_request_id: id, expires_at: expect.any(String), channels: ['sms', 'whatsapp'], send_count: 2 },
    });
    const deliveries = await t.sql('SELECT channel FROM otp_deliveries WHERE otp_request_id = $1 ORDER BY created_at, channel', [id]);
    expect(deliveries.map((d) => d.channel)).toEqual(['SMS', 'WHATSAPP', 'WHATSAPP']);
    expect((await restGet(t, `/api/otp/${id}`)).body.data.send_count).toBe(2);

    const canceled = await restPost(t, '/api/cancel-otp', { otp_request_id: id });
    expect(canceled.status).toBe(200);
    expect(canceled.body).toEqual({ status: true, message: 'OTP canceled', data: { otp_request_id: id, status: 'CANCELED' } });
    const verify = await restPost(t, '/api/verify-otp', { otp_request_id: id, code: '2468' });
    expect(verify.status).toBe(400);
    expect((await restGet(t, `/api/otp/${id}`)).body.data).toMatchObject({ status: 'CANCELED', cancel_reason: 'CANCELED_BY_USER' });
  });
});

describe('REST twin: another user\'s ids', () => {
  test('a stranger gets 404 (exactly the unknown-id answer, never 403) on GET, resend and cancel, and nothing changes', async () => {
    const owner = await t.keyFor('USER');
    const stranger = await t.keyFor('USER');
    const id = await sendSms({}, owner.key);
    await cooledDown(id);
    const before = await rowOf(id);
    for (const probe of [
      () => restGet(t, `/api/otp/${id}`, stranger.key),
      () => restPost(t, '/api/resend-otp', { otp_request_id: id }, stranger.key),
      () => restPost(t, '/api/cancel-otp', { otp_request_id: id }, stranger.key),
    ]) {
      const res = await probe();
      expect({ status: res.status, body: res.body }).toEqual({ status: 404, body: NOT_FOUND });
    }
    for (const unknown of [
      () => restGet(t, `/api/otp/${UNKNOWN_ID}`, stranger.key),
      () => restPost(t, '/api/resend-otp', { otp_request_id: UNKNOWN_ID }, stranger.key),
      () => restPost(t, '/api/cancel-otp', { otp_request_id: UNKNOWN_ID }, stranger.key),
    ]) {
      const res = await unknown();
      expect({ status: res.status, body: res.body }).toEqual({ status: 404, body: NOT_FOUND });
    }
    expect(await rowOf(id)).toEqual(before);
    // the owner and admins see it, as with GraphQL otpRequest
    expect((await restGet(t, `/api/otp/${id}`, owner.key)).status).toBe(200);
    expect((await restGet(t, `/api/otp/${id}`)).status).toBe(200);
  });

  test('ids that are not UUIDs: GET is 404, resend/cancel name the field in partner style', async () => {
    for (const path of ['/api/otp/garbage', '/api/otp/%27%20OR%201%3D1', `/api/otp/${'9'.repeat(300)}`]) {
      expect((await restGet(t, path)).status).toBe(404);
    }
    const resend = await restPost(t, '/api/resend-otp', { otp_request_id: 'garbage' });
    expect(resend.status).toBe(422);
    expect(resend.body).toEqual({ status: false, message: 'Invalid Payload', errors: { otp_request_id: ['The otp request id field must be a valid UUID.'] } });
  });

  test('a rule OTP (sent by the rule, consumed by the save it guards) cannot be resent or canceled here', async () => {
    const id = await sendSms();
    await t.sql(`UPDATE otp_requests SET issued_by = 'RULE' WHERE id = $1`, [id]);
    await cooledDown(id);
    expect((await restPost(t, '/api/resend-otp', { otp_request_id: id })).status).toBe(404);
    expect((await restPost(t, '/api/cancel-otp', { otp_request_id: id })).status).toBe(404);
    expect((await rowOf(id)).status).toBe('PENDING');
  });
});

describe('REST twin: bad input, every field at once', () => {
  test('resend with no id and a channel that does not exist: both fields, 422, nothing sent', async () => {
    const [before] = await t.sql('SELECT count(*)::int AS n FROM otp_deliveries');
    const res = await restPost(t, '/api/resend-otp', { channel: 'sms|pigeon' });
    expect(res.status).toBe(422);
    expect(res.body).toEqual({
      status: false, message: 'Invalid Payload',
      errors: { otp_request_id: ['The otp request id field is required.'], channel: ['The selected channel is invalid.'] },
    });
    const [after] = await t.sql('SELECT count(*)::int AS n FROM otp_deliveries');
    expect(after.n).toBe(before.n);
  });

  test('resend on a channel the OTP was not sent on is a 422 under `channel`', async () => {
    const id = await sendSms();
    await cooledDown(id);
    const res = await restPost(t, '/api/resend-otp', { otp_request_id: id, channel: 'email' });
    expect(res.status).toBe(422);
    expect(res.body).toEqual({ status: false, message: 'Invalid Payload', errors: { channel: ['This OTP was not sent on EMAIL.'] } });
    expect((await rowOf(id)).send_count).toBe(1);
  });

  test('cancel with no id, an array body, malformed JSON, no key, a read-only key', async () => {
    const missing = await restPost(t, '/api/cancel-otp', {});
    expect(missing).toMatchObject({ status: 422, body: { errors: { otp_request_id: ['The otp request id field is required.'] } } });
    expect((await restPost(t, '/api/cancel-otp', '[1]')).status).toBe(400);
    expect((await restPost(t, '/api/resend-otp', '{"otp_request_id": ')).body).toEqual({ status: false, message: 'The request body is not valid JSON.' });
    const id = await sendSms();
    for (const [path, body] of [['/api/resend-otp', { otp_request_id: id }], ['/api/cancel-otp', { otp_request_id: id }]] as const) {
      expect((await restPost(t, path, body, null)).status).toBe(401);
      expect((await restPost(t, path, body, 'cs_not_a_key')).status).toBe(401);
      const reader = await t.keyFor('READONLY');
      expect((await restPost(t, path, body, reader.key)).status).toBe(403);
    }
    expect((await restGet(t, `/api/otp/${id}`, null)).status).toBe(401);
    expect((await rowOf(id)).status).toBe('PENDING');
  });
});

describe('REST twin: limits, as for GraphQL resendOtp/cancelOtp', () => {
  test('a resend inside the cooldown is 429 with Retry-After; past OTP_MAX_RESENDS it is refused with LIMIT_REACHED', async () => {
    const id = await sendSms();
    const early = await restPost(t, '/api/resend-otp', { otp_request_id: id });
    expect(early.status).toBe(429);
    expect(early.body).toMatchObject({ status: false, data: { reason: 'RATE_LIMITED', retry_after: expect.any(Number) } });
    expect(Number(early.headers.get('retry-after'))).toBe(early.body.data.retry_after);
    expect(early.body.data.retry_after).toBeGreaterThan(25);
    await t.sql('UPDATE otp_requests SET send_count = 6 WHERE id = $1', [id]);
    await cooledDown(id);
    const capped = await restPost(t, '/api/resend-otp', { otp_request_id: id });
    expect(capped.status).toBe(400);
    expect(capped.body.data).toEqual({ reason: 'LIMIT_REACHED' });
  });

  test('the per-recipient send limit counts REST resends like any send', async () => {
    const mobile = freshMobile();
    const id = await sendSms({ mobile_no: mobile });
    // the send and four resends reach the default 5 per 15 minutes for this recipient; the fifth resend is refused
    let limited = null;
    for (let i = 0; i < 6 && !limited; i += 1) {
      await cooledDown(id);
      const res = await restPost(t, '/api/resend-otp', { otp_request_id: id });
      if (res.status === 429) limited = { ...res, at: i };
      else expect(res.status).toBe(200);
    }
    expect(limited?.at).toBe(4);
    expect(limited!.body.data.reason).toBe('RATE_LIMITED');
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  test('a race of 50 cancels: exactly one 200, the rest a 400 naming the state', async () => {
    const id = await sendSms();
    const answers = await Promise.all(Array.from({ length: 50 }, () => restPost(t, '/api/cancel-otp', { otp_request_id: id })));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    const rest = answers.filter((a) => a.status !== 200);
    expect(rest).toHaveLength(49);
    for (const a of rest) expect(a).toMatchObject({ status: 400, body: { status: false, data: { reason: 'INVALID' } } });
    expect((await rowOf(id)).status).toBe('CANCELED');
  });

  test('a race of 20 resends after the cooldown: exactly one is sent, the rest wait for the next cooldown', async () => {
    const id = await sendSms();
    await cooledDown(id);
    const answers = await Promise.all(Array.from({ length: 20 }, () => restPost(t, '/api/resend-otp', { otp_request_id: id })));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 429)).toHaveLength(19);
    expect((await rowOf(id)).send_count).toBe(2);
  });
});
