import { startTestServer, type TestServer } from '../support/test-server';
import { RESEND, SEND, VERIFY, freshMobile, restPost } from './otp-helpers';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer('otp_limits', {
    OTP_WORKER: 'false', OTP_SEND_LIMIT_PER_RECIPIENT_15MIN: '3', OTP_SEND_LIMIT_PER_RECIPIENT_DAY: '4', OTP_SEND_LIMIT_PER_KEY_MINUTE: '12',
    OTP_VERIFY_FAILURE_LIMIT_PER_RECIPIENT_DAY: '7', OTP_TEST_RECIPIENTS: '+919876543210:123456, qa@example.com:AbCd12',
  });
});
afterAll(() => t.close());

const body = (mobile_no: string) => ({ mobile_no, channel: 'sms', source: 'limits', type: 'simple_otp' });

describe('abuse limits', () => {
  test('per recipient: the 4th send within 15 minutes is RATE_LIMITED (REST 429 + Retry-After, GraphQL userError)', async () => {
    const { key } = await t.keyFor('USER');
    const mobile = freshMobile();
    for (let i = 0; i < 3; i += 1) expect((await restPost(t, '/api/send-otp', body(mobile), key)).status).toBe(200);
    const limited = await restPost(t, '/api/send-otp', body(mobile), key);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.body).toMatchObject({ status: false, message: expect.stringMatching(/Too many OTPs were sent to this recipient/), data: { reason: 'RATE_LIMITED', retry_after: expect.any(Number) } });
    const gql = await t.gql(SEND, { input: { mobileNo: mobile, channels: ['SMS'], source: 'limits', type: 'simple_otp' } }, { key });
    expect(gql.body.data.sendOtp.userErrors[0]).toMatchObject({ code: 'RATE_LIMITED', message: expect.stringMatching(/Try again in \d+ seconds/) });
  });

  test('resends count against the recipient limits too', async () => {
    const { key } = await t.keyFor('USER');
    const mobile = freshMobile();
    await restPost(t, '/api/send-otp', body(mobile), key);
    const latest = await restPost(t, '/api/send-otp', body(mobile), key); // supersedes the first
    const id = latest.body.data.otp_request_id;
    await t.sql(`UPDATE otp_requests SET last_sent_at = now() - interval '1 minute' WHERE id = $1`, [id]);
    expect((await t.gql(RESEND, { id }, { key })).body.data.resendOtp.userErrors).toEqual([]);
    await t.sql(`UPDATE otp_requests SET last_sent_at = now() - interval '1 minute' WHERE id = $1`, [id]);
    expect((await t.gql(RESEND, { id }, { key })).body.data.resendOtp.userErrors[0].code).toBe('RATE_LIMITED');
  });

  test('per API key: 12 sends per minute', async () => {
    const { key } = await t.keyFor('USER');
    const statuses = [];
    for (let i = 0; i < 13; i += 1) statuses.push((await restPost(t, '/api/send-otp', body(freshMobile()), key)).status);
    expect(statuses.slice(0, 12).every((s) => s === 200)).toBe(true);
    expect(statuses[12]).toBe(429);
  });

  test('per recipient: verify failures across all requests are capped', async () => {
    const { key } = await t.keyFor('USER');
    const mobile = freshMobile();
    const a = (await restPost(t, '/api/send-otp', { ...body(mobile), otp_code: '1111' }, key)).body.data.otp_request_id;
    const b = (await restPost(t, '/api/send-otp', { ...body(mobile), source: 'limits_other', otp_code: '2222' }, key)).body.data.otp_request_id;
    const results = [];
    for (const id of [a, a, a, a, b, b, b]) results.push((await restPost(t, '/api/verify-otp', { otp_request_id: id, code: '9999' }, key)).status);
    expect(results).toEqual([400, 400, 400, 400, 400, 400, 400]);
    const blocked = await restPost(t, '/api/verify-otp', { otp_request_id: b, code: '2222' }, key);
    expect(blocked.status).toBe(429);
    expect(blocked.body.data.reason).toBe('RATE_LIMITED');
    const gql = await t.gql(VERIFY, { input: { otpRequestId: b, code: '2222' } }, { key });
    expect(gql.body.data.verifyOtp).toMatchObject({ verified: false, userErrors: [{ code: 'RATE_LIMITED' }] });
  });
});

describe('attacker: a race of 50 parallel sends to one new recipient', () => {
  test('exactly the limit (3) is accepted, the other 47 are RATE_LIMITED, and the refused ones took nothing from the key', async () => {
    const { key } = await t.keyFor('USER');
    const mobile = freshMobile();
    const answers = await Promise.all(Array.from({ length: 50 }, () => restPost(t, '/api/send-otp', body(mobile), key)));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(3);
    expect(answers.filter((a) => a.status === 429 && a.body.data.reason === 'RATE_LIMITED')).toHaveLength(47);
    // the key (12 a minute) paid only for the 3 accepted sends: 9 more to other recipients pass, the 10th does not
    const more = [];
    for (let i = 0; i < 10; i += 1) more.push((await restPost(t, '/api/send-otp', body(freshMobile()), key)).status);
    expect(more).toEqual([...Array(9).fill(200), 429]);
  });
});

describe('OTP_TEST_RECIPIENTS', () => {
  test('fixed codes, nothing delivered', async () => {
    const sms = await restPost(t, '/api/send-otp', { ...body('9876543210'), otp_code_length: 8 });
    expect(sms.status).toBe(200);
    const id = sms.body.data.otp_request_id;
    const [row] = await t.sql('SELECT test_recipient, code_length FROM otp_requests WHERE id = $1', [id]);
    expect(row).toEqual({ test_recipient: true, code_length: 6 });
    expect(await t.sql('SELECT * FROM otp_deliveries WHERE otp_request_id = $1', [id])).toEqual([]);
    expect((await restPost(t, '/api/verify-otp', { otp_request_id: id, code: '123456' })).status).toBe(200);

    const email = await restPost(t, '/api/send-otp', {
      email: 'QA@example.com', channel: 'email', source: 'review', type: 'simple_otp', email_from_name: 'Q', email_subject: 'S', email_template_id: 'otp_email',
    });
    expect((await restPost(t, '/api/verify-otp', { email: 'qa@example.com', source: 'review', code: 'abcd12' })).body)
      .toEqual({ status: true, message: 'OTP verified', data: { otp_request_id: email.body.data.otp_request_id } });
  });
});
