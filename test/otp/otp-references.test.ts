import { createOtpRule } from '../support/api';
import { startTestServer, type TestServer } from '../support/test-server';
import { SEND, freshMobile, restPost } from './otp-helpers';

let t: TestServer;
beforeAll(async () => { t = await startTestServer('otp_references', { OTP_WORKER: 'false' }); });
afterAll(() => t.close());

const RULE = 'The selected rule id is invalid.';
const count = async () => (await t.sql<{ n: number }>('SELECT count(*)::int AS n FROM otp_requests'))[0].n;

async function createRule(): Promise<number> {
  const rule = await createOtpRule(t, {
    name: `Deal won ${freshMobile()}`, module: 'Deals', channels: ['EMAIL'], recipientField: null,
    conditions: [{ match: 'ALL', conditions: [{ field: 'stage', operator: 'HAS_CHANGED_TO', value: 'Closed Won' }] }],
  });
  return rule.id;
}

describe('attacker: an OTP bound to a rule that does not exist', () => {
  test('REST: rule_id 999999 is a 422 on rule_id, nothing stored', async () => {
    const before = await count();
    const res = await restPost(t, '/api/send-otp', { mobile_no: freshMobile(), channel: 'sms', source: 'refs', type: 'simple_otp', rule_id: 999999 });
    expect(res.status).toBe(422);
    expect(res.body).toEqual({ status: false, message: 'Invalid Payload', errors: { rule_id: [RULE] } });
    expect(await count()).toBe(before);
  });

  test('GraphQL: a userError on ruleId, with every other failing field', async () => {
    const before = await count();
    const res = await t.gql(SEND, { input: { mobileNo: freshMobile(), channels: ['SMS'], source: 'refs', type: 'simple_otp', ruleId: 999999, otpCodeLength: 3 } });
    expect(res.body.data.sendOtp.otpRequest).toBeNull();
    expect(res.body.data.sendOtp.userErrors).toEqual(expect.arrayContaining([
      { field: ['input', 'ruleId'], code: 'INVALID', message: RULE },
      { field: ['input', 'otpCodeLength'], code: 'INVALID', message: 'The otp code length field must be at least 4.' },
    ]));
    expect(await count()).toBe(before);
  });

  test('an existing rule is kept as a plain reference: the OTP is issued by the API, never by the rule', async () => {
    const ruleId = await createRule();
    const res = await restPost(t, '/api/send-otp', { mobile_no: freshMobile(), channel: 'sms', source: 'refs', type: 'simple_otp', rule_id: String(ruleId) });
    expect(res.status).toBe(200);
    expect(await t.sql('SELECT rule_id, issued_by FROM otp_requests WHERE id = $1', [res.body.data.otp_request_id])).toEqual([{ rule_id: ruleId, issued_by: 'API' }]);
  });
});
