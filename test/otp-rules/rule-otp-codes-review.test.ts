import { RuleOtpWorld, codeIn, codes, deactivation } from './rule-otp-helpers';

// Regression checks of the attacker's second look: codes from the wrong place never pass a guard, and mixing the
// three ways of passing a code (or aliases in one operation) buys no extra attempt.
const w = new RuleOtpWorld();
let user: { key: string; userId: string };
beforeAll(async () => {
  await w.start('rule_otp_codes_review');
  user = await w.t.keyFor('USER');
});
afterAll(() => w.stop());
afterEach(() => w.deactivateRules());

const otpArg = (ruleId: number, code: string) => [{ rule: String(ruleId), code }];
const failuresOf = async (ruleId: number, recordId: string) =>
  (await w.t.sql('SELECT failures FROM otp_rule_validation_failures WHERE rule_id = $1 AND record_id = $2', [ruleId, recordId]))[0]?.failures ?? 0;
const titleRule = () => ({ ...deactivation(), conditions: [{ match: 'ALL', conditions: [{ field: 'title', operator: 'HAS_CHANGED' }] }] });

describe('attacker: a code from the wrong place', () => {
  test('a superseded code, an expired one, another rule\'s and another record\'s are all refused; the live one works', async () => {
    const rule = await w.createRule(deactivation({ resendMode: 'NEW_CODE' }));
    const other = await w.createRule(titleRule());
    const victim = await w.contact();
    const neighbour = await w.contact();

    const first = await w.sendRuleOtp(rule.id, victim.id, { key: user.key });
    const superseded = codeIn(await w.smsOf(first.otpRequest.id, victim.e164));
    const second = await w.sendRuleOtp(rule.id, victim.id, { key: user.key });
    const live = codeIn(await w.smsOf(second.otpRequest.id, victim.e164));
    const forNeighbour = await w.sendRuleOtp(rule.id, neighbour.id, { key: user.key });
    const neighbourCode = codeIn(await w.smsOf(forNeighbour.otpRequest.id, neighbour.e164));
    const forOtherRule = await w.sendRuleOtp(other.id, victim.id, { key: user.key });
    const otherRuleCode = codeIn(await w.smsOf(forOtherRule.otpRequest.id, victim.e164));

    for (const code of [superseded, neighbourCode, otherRuleCode].filter((c) => c !== live)) {
      expect(codes((await w.update(victim.id, { contactStatus: 'Inactive' }, { key: user.key, otp: otpArg(rule.id, code) })).userErrors)).toEqual(['OTP_INVALID']);
    }
    expect((await w.t.sql('SELECT status, cancel_reason FROM otp_requests WHERE id = $1', [first.otpRequest.id]))[0]).toEqual({ status: 'CANCELED', cancel_reason: 'SUPERSEDED' });

    await w.t.sql("UPDATE otp_requests SET expires_at = now() - interval '1 second' WHERE id = $1", [second.otpRequest.id]);
    const before = await failuresOf(rule.id, victim.id);
    expect(codes((await w.update(victim.id, { contactStatus: 'Inactive' }, { key: user.key, otp: otpArg(rule.id, live) })).userErrors)).toEqual(['OTP_EXPIRED']);
    expect(await failuresOf(rule.id, victim.id)).toBe(before); // an expired code is not a guess

    const fresh = await w.sendRuleOtp(rule.id, victim.id, { key: user.key });
    const code = codeIn(await w.smsOf(fresh.otpRequest.id, victim.e164));
    expect((await w.update(victim.id, { contactStatus: 'Inactive' }, { key: user.key, otp: otpArg(rule.id, code) })).userErrors).toEqual([]);
  });
});

describe('attacker: several codes for one rule in one save, and aliases in one operation', () => {
  test('typed argument, fields key and header with different codes: the typed one is checked, one attempt is counted', async () => {
    const rule = await w.createRule(deactivation());
    const victim = await w.contact();
    const sent = await w.sendRuleOtp(rule.id, victim.id, { key: user.key });
    const code = codeIn(await w.smsOf(sent.otpRequest.id, victim.e164));
    const wrong = code === '111111' ? '222222' : '111111';
    const mixed = await w.update(victim.id, { contactStatus: 'Inactive', [`OTPRULES_OTP_${rule.id}`]: code }, {
      key: user.key, otp: otpArg(rule.id, wrong), headers: { [`OTPRULES-OTP-${rule.sanitizedName}`]: code },
    });
    expect(codes(mixed.userErrors)).toEqual(['OTP_INVALID']);
    expect(await failuresOf(rule.id, victim.id)).toBe(1);
    expect((await w.update(victim.id, { contactStatus: 'Inactive' }, { key: user.key, headers: { [`OTPRULES-OTP-${rule.id}`]: code } })).userErrors).toEqual([]);
  });

  test('one header code reused by aliases: it saves its own record once; another record and a second use are refused', async () => {
    const rule = await w.createRule(titleRule());
    const a = await w.contact();
    const b = await w.contact();
    const sent = await w.sendRuleOtp(rule.id, a.id, { key: user.key });
    const code = codeIn(await w.smsOf(sent.otpRequest.id, a.e164));
    const res = await w.t.gql(`mutation($a: ID!, $b: ID!) {
      first: updateRecord(id: $a, fields: { title: "CFO" }) { record { id } userErrors { code } }
      other: updateRecord(id: $b, fields: { title: "CFO" }) { record { id } userErrors { code } }
      again: updateRecord(id: $a, fields: { title: "CEO" }) { record { id } userErrors { code } } }`,
    { a: a.id, b: b.id }, { key: user.key, headers: { [`OTPRULES-OTP-${rule.id}`]: code } });
    expect(res.body.data.first.userErrors).toEqual([]);
    expect(res.body.data.other).toEqual({ record: null, userErrors: [{ code: 'OTP_INVALID' }] });
    expect(res.body.data.again).toEqual({ record: null, userErrors: [{ code: 'OTP_INVALID' }] });
    expect((await w.t.sql('SELECT fields FROM records WHERE id = $1', [a.id]))[0].fields.title).toBe('CFO');
  });
});
