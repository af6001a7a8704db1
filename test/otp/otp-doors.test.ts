import { startTestServer, type TestServer } from '../support/test-server';
import { CANCEL, freshMobile, RESEND, restPost, SEND, sendSms, VERIFY } from './otp-helpers';

/** GraphQL and REST are two doors into one OTP service: one role check, one validator, one request shape. */
let t: TestServer;
beforeAll(async () => {
  t = await startTestServer('otp_doors', { OTP_WORKER: 'false', OTP_SEND_LIMIT_PER_KEY_MINUTE: '100000' });
});
afterAll(() => t.close());

const READ_ONLY_MESSAGE = 'This user may not send or verify OTPs (read-only role).';

describe('attacker: a read-only key through either door', () => {
  test('send, verify, resend and cancel are FORBIDDEN on GraphQL and 403 on REST, with one message, and change nothing', async () => {
    const reader = await t.keyFor('READONLY');
    const sent = await sendSms(t, { otpCode: '2468' });
    const id = sent.otpRequest.id;
    const input = { mobileNo: freshMobile(), channels: ['SMS'], source: 'doors', type: 'simple_otp' };
    const answers = [
      await t.gql(SEND, { input }, { key: reader.key }),
      await t.gql(VERIFY, { input: { otpRequestId: id, code: '2468' } }, { key: reader.key }),
      await t.gql(RESEND, { id }, { key: reader.key }),
      await t.gql(CANCEL, { id }, { key: reader.key }),
    ];
    for (const answer of answers) {
      expect(answer.body.data).toBeNull();
      expect(answer.body.errors).toEqual([expect.objectContaining({ message: READ_ONLY_MESSAGE, extensions: { code: 'FORBIDDEN' } })]);
    }
    for (const [path, body] of [['/api/send-otp', { mobile_no: freshMobile(), channel: 'sms', source: 'doors', type: 'simple_otp' }], ['/api/verify-otp', { otp_request_id: id, code: '2468' }]] as const) {
      expect(await restPost(t, path, body, reader.key)).toMatchObject({ status: 403, body: { status: false, message: READ_ONLY_MESSAGE } });
    }
    expect(await t.sql('SELECT status, attempts, send_count FROM otp_requests WHERE id = $1', [id])).toEqual([{ status: 'PENDING', attempts: 0, send_count: 1 }]);
    expect(await t.sql("SELECT count(*)::int AS n FROM otp_requests WHERE source = 'doors'")).toEqual([{ n: 0 }]);
  });
});

describe('attacker: the same bad request through both doors', () => {
  test('the same messages, at the GraphQL input path and under the partner key', async () => {
    const attributes = { 'a.b': { nested: true }, name: 'x'.repeat(1001) };
    const graphql = await t.gql(SEND, { input: {
      channels: ['EMAIL'], source: 'doors', type: 'simple_otp', otpCodeLength: 3, ruleId: 0, emailTemplateAttributes: attributes,
    } });
    const rest = await restPost(t, '/api/send-otp', {
      channel: 'email', source: 'doors', type: 'simple_otp', otp_code_length: 3, rule_id: 0, email_template_attributes: attributes,
    });
    const userErrors: Array<{ field: string[]; message: string }> = graphql.body.data.sendOtp.userErrors;
    expect(userErrors.map((e) => e.field)).toEqual([
      ['input', 'email'], ['input', 'emailFromName'], ['input', 'emailSubject'], ['input', 'emailTemplateId'],
      ['input', 'emailTemplateAttributes', 'a.b'], ['input', 'emailTemplateAttributes', 'name'], ['input', 'otpCodeLength'], ['input', 'ruleId'],
    ]);
    expect(rest.status).toBe(422);
    expect(Object.keys(rest.body.errors)).toEqual([
      'email', 'email_from_name', 'email_subject', 'email_template_id', 'email_template_attributes.a.b', 'email_template_attributes.name',
      'otp_code_length', 'rule_id',
    ]);
    expect(Object.values(rest.body.errors).flat()).toEqual(userErrors.map((e) => e.message));
    expect(rest.body.errors.email).toEqual(['The email field is required when channel is email.']);
    expect(await t.sql("SELECT count(*)::int AS n FROM otp_requests WHERE source = 'doors'")).toEqual([{ n: 0 }]);
  });

  test('the channel field is `channels` on GraphQL and the partner\'s `channel` on REST (its camelCase key is not read there)', async () => {
    const graphql = await t.gql(`mutation { sendOtp(input: { channels: [], source: "doors", type: "simple_otp" }) { userErrors { field message } } }`);
    expect(graphql.body.data.sendOtp.userErrors).toEqual([{ field: ['input', 'channels'], message: 'The selected channel is invalid.' }]);
    const rest = await restPost(t, '/api/send-otp', { channels: ['SMS'], source: 'doors', type: 'simple_otp' });
    expect(rest.body.errors).toEqual({ channel: ['The channel field is required.'] });
  });
});
