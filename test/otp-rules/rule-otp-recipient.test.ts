import { RuleOtpWorld, codeIn, codes, deactivation } from './rule-otp-helpers';
import { freshMobile } from '../otp/otp-helpers';

const w = new RuleOtpWorld();
let user: { key: string; userId: string };
beforeAll(async () => {
  await w.start('rule_otp_recipient');
  user = await w.t.keyFor('USER');
});
afterAll(() => w.stop());
afterEach(() => w.deactivateRules());

const fieldsOf = async (id: string) => (await w.t.sql('SELECT fields FROM records WHERE id = $1', [id]))[0].fields;
const otpArg = (ruleId: number, code: string) => [{ rule: String(ruleId), code }];

describe('attacker: swaps the recipient to their own number, sends, saves and puts it back', () => {
  test('the exact attack of issue 17.1 is stopped at its first step, and the code only ever reaches the real number', async () => {
    const rule = await w.createRule(deactivation());
    const victim = await w.contact();
    const attacker = freshMobile();

    const swap = await w.update(victim.id, { mobile: attacker }, { key: user.key });
    expect(swap.record).toBeNull();
    expect(swap.userErrors).toEqual([expect.objectContaining({ code: 'OTP_REQUIRED', details: expect.objectContaining({ ruleId: rule.id, reason: 'RECIPIENT' }) })]);
    expect((await fieldsOf(victim.id)).mobile).toBe(victim.mobile);

    const sent = await w.sendRuleOtp(rule.id, victim.id, { key: user.key });
    expect(sent.otpRequest.maskedMobileNo).toBe(`******${victim.mobile.slice(-4)}`);
    await w.sms(victim.e164);
    expect(w.smsCount(`+91${attacker}`)).toBe(0);

    // the last step of the attack: enter the state and restore the number in one save, with a guessed code
    const last = await w.update(victim.id, { contactStatus: 'Inactive', mobile: victim.mobile }, { key: user.key, otp: otpArg(rule.id, '123456') });
    expect(codes(last.userErrors)).toEqual(['OTP_INVALID']);
    expect((await fieldsOf(victim.id)).contactStatus).toBe('Active');
  });

  test('a save that enters the state and changes the recipient together is refused, even with the real code', async () => {
    const rule = await w.createRule(deactivation());
    const victim = await w.contact();
    await w.sendRuleOtp(rule.id, victim.id, { key: user.key });
    const code = codeIn(await w.sms(victim.e164));
    const both = await w.update(victim.id, { contactStatus: 'Inactive', mobile: freshMobile() }, { key: user.key, otp: otpArg(rule.id, code) });
    expect(both.userErrors).toEqual([expect.objectContaining({ code: 'INVALID', field: ['fields', 'mobile'], details: expect.objectContaining({ reason: 'RECIPIENT_CHANGED_WITH_STATE' }) })]);
    // nothing was spent: the code still does the change it was sent for
    expect((await w.update(victim.id, { contactStatus: 'Inactive' }, { key: user.key, otp: otpArg(rule.id, code) })).userErrors).toEqual([]);
  });

  test('clearing the number first, or changing it while the record is closed, is guarded too', async () => {
    const closed = await w.contact({ contactStatus: 'Inactive' }); // created closed before the rule existed
    const rule = await w.createRule(deactivation());
    const open = await w.contact();
    expect(codes((await w.update(open.id, { mobile: null }, { key: user.key })).userErrors)).toEqual(['OTP_REQUIRED']);
    expect(codes((await w.update(closed.id, { mobile: freshMobile() }, { key: user.key })).userErrors)).toEqual(['OTP_REQUIRED']);
    expect((await fieldsOf(closed.id)).mobile).toBe(closed.mobile);
    // a rule of another profile does not challenge this user, for its state or its recipient
    await w.updateRule(rule.id, { applicableProfiles: ['Finance'] });
    expect((await w.update(open.id, { mobile: freshMobile() }, { key: user.key })).userErrors).toEqual([]);
  });
});

describe('attacker: uses a second record with their own number', () => {
  test('a code sent for another record (the attacker\'s, with their number) never counts for the victim', async () => {
    const rule = await w.createRule(deactivation());
    const victim = await w.contact();
    const own = await w.contact({}, user.key);
    await w.sendRuleOtp(rule.id, own.id, { key: user.key });
    const code = codeIn(await w.sms(own.e164));
    expect(codes((await w.update(victim.id, { contactStatus: 'Inactive' }, { key: user.key, otp: otpArg(rule.id, code) })).userErrors)).toEqual(['OTP_INVALID']);
  });

  test('bulk sends go to each record\'s real number after a refused swap', async () => {
    const rule = await w.createRule(deactivation());
    const a = await w.contact();
    const b = await w.contact();
    const attacker = freshMobile();
    for (const r of [a, b]) expect(codes((await w.update(r.id, { mobile: attacker }, { key: user.key })).userErrors)).toEqual(['OTP_REQUIRED']);
    const res = await w.t.gql('mutation($r: Int!, $ids: [ID!]!) { sendRuleOtpBulk(ruleId: $r, recordIds: $ids) { sentCount } }', { r: rule.id, ids: [a.id, b.id] }, { key: user.key });
    expect(res.body.data.sendRuleOtpBulk.sentCount).toBe(2);
    await w.sms(a.e164);
    await w.sms(b.e164);
    expect(w.smsCount(`+91${attacker}`)).toBe(0);
  });
});

describe('a legitimate phone change still happens', () => {
  test('the OTP goes to the current number, says what it is for, and then the new number receives the next codes', async () => {
    const rule = await w.createRule(deactivation());
    const contact = await w.contact();
    const next = freshMobile();
    const sent = await w.sendRuleOtp(rule.id, contact.id, { key: user.key, intendedFields: { mobile: next } });
    expect(sent.userErrors).toEqual([]);
    const text = await w.sms(contact.e164);
    expect(text).toContain(`mobile to ${next}`);
    const code = codeIn(text);
    // bound to that number: it cannot move the recipient anywhere else
    expect((await w.update(contact.id, { mobile: freshMobile() }, { key: user.key, otp: otpArg(rule.id, code) })).userErrors[0]).toMatchObject({ code: 'OTP_INVALID', details: { reason: 'OTHER_CHANGE' } });
    expect((await w.update(contact.id, { mobile: next }, { key: user.key, otp: otpArg(rule.id, code) })).userErrors).toEqual([]);

    await w.sendRuleOtp(rule.id, contact.id, { key: user.key });
    const stateCode = codeIn(await w.sms(`+91${next}`));
    expect((await w.update(contact.id, { contactStatus: 'Inactive' }, { key: user.key, otp: otpArg(rule.id, stateCode) })).userErrors).toEqual([]);
  });

  test('an admin corrects a lost number without an OTP; a first number on a record without one needs none', async () => {
    await w.createRule(deactivation());
    const contact = await w.contact();
    expect((await w.update(contact.id, { mobile: freshMobile() })).userErrors).toEqual([]); // the admin key
    const { id } = await w.createRecord('Contacts', { lastName: 'No number yet', contactStatus: 'Active' }, user.key);
    expect((await w.update(id, { mobile: freshMobile() }, { key: user.key })).userErrors).toEqual([]);
  });
});
