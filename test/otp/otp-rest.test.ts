import { startTestServer, type TestServer } from '../support/test-server';
import { freshMobile, restPost } from './otp-helpers';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer('otp_rest', { OTP_WORKER: 'false', OTP_SEND_LIMIT_PER_KEY_MINUTE: '100000' });
});
afterAll(() => t.close());

const PARTNER_EXAMPLE = { mobile_no: '7977251637', channel: 'sms', source: 'impactx', type: 'simple_otp', otp_code_length: 4, otp_code_type: 'NUMERIC' };

describe('REST /api/send-otp and /api/verify-otp: successful cases', () => {
  test("the partner's example request from the seed succeeds", async () => {
    const res = await restPost(t, '/api/send-otp', PARTNER_EXAMPLE);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      status: true, message: 'OTP sent successfully',
      data: { otp_request_id: expect.any(String), expires_at: expect.any(String), channels: ['sms'] },
    });
    const [row] = await t.sql('SELECT mobile, source, code_length, code_type FROM otp_requests WHERE id = $1', [res.body.data.otp_request_id]);
    expect(row).toEqual({ mobile: '+917977251637', source: 'impactx', code_length: 4, code_type: 'NUMERIC' });
    expect(JSON.stringify(res.body)).not.toMatch(/code_hash|"code"/);
  });

  test('channel grammar: pipes, all, and email with its template attributes', async () => {
    const pipes = await restPost(t, '/api/send-otp', { ...PARTNER_EXAMPLE, mobile_no: freshMobile(), channel: 'sms|whatsapp' });
    expect(pipes.body.data.channels).toEqual(['sms', 'whatsapp']);
    const all = await restPost(t, '/api/send-otp', {
      mobile_no: freshMobile(), email: 'user@example.com', channel: 'all', source: 'user_signup', type: 'simple_otp',
      email_from_name: 'Gilchrist', email_subject: 'Your OTP Code', email_template_id: 'otp_email', email_template_attributes: { name: 'Gilchrist' },
    });
    expect(all.status).toBe(200);
    expect(all.body.data.channels).toEqual(['sms', 'whatsapp', 'email']);
  });

  test('verify by id and by recipient + source', async () => {
    const mobile = freshMobile();
    const sent = await restPost(t, '/api/send-otp', { ...PARTNER_EXAMPLE, mobile_no: mobile, otp_code: '4826' });
    const wrong = await restPost(t, '/api/verify-otp', { otp_request_id: sent.body.data.otp_request_id, code: '0000' });
    expect(wrong.status).toBe(400);
    expect(wrong.body).toEqual({ status: false, message: 'OTP verification failed', data: { reason: 'OTP_INVALID', attempts_left: 4 } });
    const ok = await restPost(t, '/api/verify-otp', { mobile_no: mobile, source: 'impactx', code: '4826' });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ status: true, message: 'OTP verified', data: { otp_request_id: sent.body.data.otp_request_id } });
  });
});

describe('REST: failing cases', () => {
  test('otp_code_length below 4 gets exactly the partner answer', async () => {
    const res = await restPost(t, '/api/send-otp', { ...PARTNER_EXAMPLE, otp_code_length: 3 });
    expect(res.status).toBe(422);
    expect(res.body).toEqual({ status: false, message: 'Invalid Payload', errors: { otp_code_length: ['The otp code length field must be at least 4.'] } });
  });

  test('every invalid variant is reported at once, with snake_case keys', async () => {
    const [before] = await t.sql('SELECT count(*)::int AS n FROM otp_requests');
    const res = await restPost(t, '/api/send-otp', {
      channel: 'sms|email|pigeon', otp_code_type: 'HEX', otp_code_length: 'six', type: 'simple_otp', mobile_no: '12345',
    });
    expect(res.status).toBe(422);
    expect(res.body).toEqual({
      status: false, message: 'Invalid Payload',
      errors: {
        channel: ['The selected channel is invalid.'],
        mobile_no: ['The mobile no field must be between 8 and 10 digits.'],
        source: ['The source field is required.'],
        otp_code_length: ['The otp code length field must be an integer.'],
        otp_code_type: ['The selected otp code type is invalid.'],
      },
    });
    const email = await restPost(t, '/api/send-otp', { channel: 'email', source: 's', type: 'simple_otp', otp_code_length: 11 });
    expect(email.body.errors).toEqual({
      email: ['The email field is required when channel is email.'],
      email_from_name: ['The email from name field is required when channel is email.'],
      email_subject: ['The email subject field is required when channel is email.'],
      email_template_id: ['The email template id field is required when channel is email.'],
      otp_code_length: ['The otp code length field must not be greater than 10.'],
    });
    const sms = await restPost(t, '/api/send-otp', { channel: 'whatsapp', source: 's', type: 'simple_otp' });
    expect(sms.body.errors).toEqual({ mobile_no: ['The mobile no field is required when channel is whatsapp.'] });
    const [after] = await t.sql('SELECT count(*)::int AS n FROM otp_requests');
    expect(after.n).toBe(before.n);
  });

  test('a template variable the caller did not give is named', async () => {
    await t.gql(`mutation($input: CreateMessageTemplateInput!) { createMessageTemplate(input: $input) { userErrors { message } } }`, {
      input: { id: 'overseas_otp', channel: 'EMAIL', body: 'Hi {{name}}, your code for {{course}} is {{otp}}' },
    });
    const res = await restPost(t, '/api/send-otp', {
      email: 'a@example.com', channel: 'email', source: 's', type: 'simple_otp', email_from_name: 'X', email_subject: 'S',
      email_template_id: 'overseas_otp', email_template_attributes: { name: 'Gilchrist' },
    });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual({ 'email_template_attributes.course': ['The email template attributes.course field is required.'] });
  });

  test('401 without a key, 403 for read-only users, 400 for malformed JSON, all in the status/message shape', async () => {
    const anon = await restPost(t, '/api/send-otp', PARTNER_EXAMPLE, null);
    expect(anon.status).toBe(401);
    expect(anon.body).toEqual({ status: false, message: expect.stringMatching(/Authentication required/) });
    const bad = await restPost(t, '/api/send-otp', PARTNER_EXAMPLE, 'cs_nope');
    expect(bad.status).toBe(401);
    const reader = await t.keyFor('READONLY');
    const forbidden = await restPost(t, '/api/send-otp', PARTNER_EXAMPLE, reader.key);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.status).toBe(false);
    const malformed = await restPost(t, '/api/send-otp', '{"mobile_no": ');
    expect(malformed).toMatchObject({ status: 400, body: { status: false, message: 'The request body is not valid JSON.' } });
    const array = await restPost(t, '/api/send-otp', '[1,2]');
    expect(array.status).toBe(400);
    const huge = await restPost(t, '/api/send-otp', { ...PARTNER_EXAMPLE, source: 'x'.repeat(1_100_000) });
    expect(huge).toMatchObject({ status: 413, body: { status: false } });
  });

  test('verify-otp validation and unknown recipients', async () => {
    const missing = await restPost(t, '/api/verify-otp', {});
    expect(missing.status).toBe(422);
    expect(missing.body.errors).toEqual({
      code: ['The code field is required.'],
      otp_request_id: ['The otp request id field is required when none of mobile no / email are present.'],
      source: ['The source field is required when otp request id is not present.'],
    });
    const unknown = await restPost(t, '/api/verify-otp', { mobile_no: freshMobile(), source: 'impactx', code: '1234' });
    expect(unknown).toMatchObject({ status: 400, body: { status: false, message: 'OTP verification failed', data: { reason: 'OTP_INVALID', attempts_left: 4 } } });
  });
});
