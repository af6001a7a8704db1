import { RuleOtpWorld, codeIn, codes, deactivation } from './rule-otp-helpers';

const w = new RuleOtpWorld();
beforeAll(() => w.start('rule_otp_integrity'));
afterAll(() => w.stop());
afterEach(() => w.deactivateRules());

const SEND_OTP = `mutation($input: SendOtpInput!) { sendOtp(input: $input) { otpRequest { id } userErrors { field message code } } }`;

describe('attacker: a USER key mints its own rule OTP with sendOtp', () => {
  test('sendOtp to the record\'s own mobile with a chosen code, bound to the rule and record, never satisfies the guard', async () => {
    const rule = await w.createRule(deactivation());
    const user = await w.t.keyFor('USER');
    const { id, mobile } = await w.contact();
    const minted = await w.t.gql(SEND_OTP, {
      input: { mobileNo: mobile, channels: ['SMS'], source: `otp_rule_${rule.id}`, type: 'simple_otp', otpCode: '1111', ruleId: rule.id, recordId: id },
    }, { key: user.key });
    expect(minted.body.data.sendOtp.userErrors).toEqual([]);

    const refused = await w.update(id, { contactStatus: 'Inactive' }, { key: user.key, otp: [{ rule: String(rule.id), code: '1111' }] });
    expect(refused.record).toBeNull();
    expect(codes(refused.userErrors)).toEqual(['OTP_INVALID']);
    // an API-issued OTP is not even "a live OTP" for the rule: a save without a code says none was sent
    const required = await w.update(id, { contactStatus: 'Inactive' }, { key: user.key });
    expect(required.userErrors[0]).toMatchObject({ code: 'OTP_REQUIRED', details: { otpSent: false, sentTo: [] } });
    expect((await w.t.sql('SELECT fields FROM records WHERE id = $1', [id]))[0].fields.contactStatus).toBe('Active');
  });

  test('sendOtp with a server-generated code to the record\'s mobile does not count either; the rule\'s own OTP does', async () => {
    const rule = await w.createRule(deactivation());
    const user = await w.t.keyFor('USER');
    const { id, mobile, e164 } = await w.contact();
    const minted = await w.t.gql(SEND_OTP, { input: { mobileNo: mobile, channels: ['SMS'], source: `otp_rule_${rule.id}`, type: 'simple_otp', ruleId: rule.id, recordId: id } }, { key: user.key });
    expect(minted.body.data.sendOtp.userErrors).toEqual([]);
    const apiCode = codeIn(await w.sms(e164, 0));
    expect(codes((await w.update(id, { contactStatus: 'Inactive' }, { key: user.key, otp: [{ rule: String(rule.id), code: apiCode }] })).userErrors)).toEqual(['OTP_INVALID']);

    expect((await w.sendRuleOtp(rule.id, id, { key: user.key })).userErrors).toEqual([]);
    const ruleCode = codeIn(await w.sms(e164, 1));
    const saved = await w.update(id, { contactStatus: 'Inactive' }, { key: user.key, otp: [{ rule: String(rule.id), code: ruleCode }] });
    expect(saved.userErrors).toEqual([]);
    expect(saved.record.fields.contactStatus).toBe('Inactive');
  });
});

describe('attacker: another user\'s emailed rule OTP', () => {
  test('an OTP sent to the acting user\'s email (rule without recipient field) counts only for that user', async () => {
    const rule = await w.createRule(deactivation({ channels: ['EMAIL'], recipientField: null }));
    const alice = await w.t.keyFor('USER');
    const mallory = await w.t.keyFor('USER');
    const { id } = await w.contact();
    const sent = await w.sendRuleOtp(rule.id, id, { key: alice.key });
    expect(sent.userErrors).toEqual([]);
    const [{ email }] = await w.t.sql('SELECT email FROM users WHERE id = $1', [alice.userId]);
    const code = codeIn((await w.email(email)).split(/\r?\n\r?\n/).slice(1).join('\n'));

    const stolen = await w.update(id, { contactStatus: 'Inactive' }, { key: mallory.key, otp: [{ rule: String(rule.id), code }] });
    expect(codes(stolen.userErrors)).toEqual(['OTP_INVALID']);
    const own = await w.update(id, { contactStatus: 'Inactive' }, { key: alice.key, otp: [{ rule: String(rule.id), code }] });
    expect(own.userErrors).toEqual([]);
  });
});
