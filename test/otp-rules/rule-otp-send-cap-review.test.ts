import { RuleOtpWorld, codes, deactivation } from './rule-otp-helpers';

// A rule caps its sends per record (1 + maxResendAttempts per resetResendAfterSeconds). The cap is counted inside the
// send's own purpose transaction, under the (rule, record) lock, so parallel clicks cannot all pass one stale count.
const w = new RuleOtpWorld();
beforeAll(() => w.start('rule_otp_send_cap_review'));
afterAll(() => w.stop());
afterEach(() => w.deactivateRules());

describe('attacker: 30 parallel "Send OTP" calls to get past the rule\'s send cap', () => {
  test('exactly 1 + maxResendAttempts are sent, every other call is LIMIT_REACHED, one OTP stays live', async () => {
    const rule = await w.createRule(deactivation({ maxResendAttempts: 2, resendMode: 'NEW_CODE' }));
    const user = await w.t.keyFor('USER');
    const contact = await w.contact();
    const answers = await Promise.all(Array.from({ length: 30 }, () => w.sendRuleOtp(rule.id, contact.id, { key: user.key })));
    expect(answers.filter((a) => a.otpRequest)).toHaveLength(3);
    expect(answers.flatMap((a) => codes(a.userErrors)).sort()).toEqual(Array(27).fill('LIMIT_REACHED'));
    expect(await w.t.sql(`SELECT count(*)::int AS n, count(*) FILTER (WHERE status = 'PENDING')::int AS live FROM otp_requests WHERE rule_id = $1 AND record_id = $2`, [rule.id, contact.id]))
      .toEqual([{ n: 3, live: 1 }]);
  });

  test('the same with sendRuleOtpBulk naming one record in parallel calls', async () => {
    const rule = await w.createRule(deactivation({ maxResendAttempts: 1, resendMode: 'NEW_CODE' }));
    const contact = await w.contact();
    const answers = await Promise.all(Array.from({ length: 20 }, () => w.t.gql(
      'mutation($r: Int!, $ids: [ID!]!) { sendRuleOtpBulk(ruleId: $r, recordIds: $ids) { sentCount results { userErrors { code } } } }', { r: rule.id, ids: [contact.id] })));
    expect(answers.reduce((n, a) => n + a.body.data.sendRuleOtpBulk.sentCount, 0)).toBe(2);
    expect((await w.t.sql('SELECT count(*)::int AS n FROM otp_requests WHERE rule_id = $1', [rule.id]))[0].n).toBe(2);
  });
});
