import { RuleOtpWorld, codeIn, codes } from './rule-otp-helpers';
import { freshMobile } from '../otp/otp-helpers';

const w = new RuleOtpWorld();
beforeAll(() => w.start('rule_otp_purpose'));
afterAll(() => w.stop());
afterEach(() => w.deactivateRules());

/** Leads: any change of the lead status needs an SMS OTP to the lead's mobile. */
const statusChange = (extra: Record<string, unknown> = {}) => ({
  module: 'Leads', channels: ['SMS'], recipientField: 'mobile',
  conditions: [{ match: 'ALL', conditions: [{ field: 'leadStatus', operator: 'HAS_CHANGED' }] }],
  ...extra,
});

async function lead() {
  const mobile = freshMobile();
  const { id } = await w.createRecord('Leads', { lastName: `Purpose ${Math.random().toString(36).slice(2, 7)}`, mobile, leadStatus: 'New' });
  return { id, e164: `+91${mobile}` };
}

const statusOf = async (id: string) => (await w.t.sql('SELECT fields FROM records WHERE id = $1', [id]))[0].fields.leadStatus;

describe('attacker: uses a code sent for one change to make another', () => {
  test('a code sent for "status to Qualified" cannot set the status to Lost; the code is not burned and no attempt is counted', async () => {
    const { id, e164 } = await lead();
    const rule = await w.createRule(statusChange({ maxValidationAttempts: 3 }));
    const sent = await w.sendRuleOtp(rule.id, id, { intendedFields: { leadStatus: 'Qualified' } });
    expect(sent.userErrors).toEqual([]);
    const code = codeIn(await w.sms(e164));

    // more tries than the rule allows, with the right code and with wrong ones: none is a guess of the code
    for (const tried of [code, '000000', code, '123456', code]) {
      const refused = await w.update(id, { leadStatus: 'Lost' }, { otp: [{ rule: String(rule.id), code: tried }] });
      expect(refused.record).toBeNull();
      expect(refused.userErrors).toEqual([expect.objectContaining({
        code: 'OTP_INVALID', message: expect.stringContaining('issued for another change (lead status to Qualified)'),
        details: expect.objectContaining({ reason: 'OTHER_CHANGE' }),
      })]);
    }
    expect((await w.t.sql('SELECT status, attempts FROM otp_requests WHERE id = $1', [sent.otpRequest.id]))[0]).toEqual({ status: 'PENDING', attempts: 0 });
    expect(await statusOf(id)).toBe('New');

    const saved = await w.update(id, { leadStatus: 'Qualified' }, { otp: [{ rule: String(rule.id), code }] });
    expect(saved.userErrors).toEqual([]);
    expect(await statusOf(id)).toBe('Qualified');
  });

  test('autoSendOnMatch binds the code to the refused save\'s values', async () => {
    const { id, e164 } = await lead();
    const rule = await w.createRule(statusChange({ autoSendOnMatch: true }));
    const refused = await w.update(id, { leadStatus: 'Contacted' });
    expect(refused.userErrors[0]).toMatchObject({ code: 'OTP_REQUIRED', details: { otpSent: true } });
    const code = codeIn(await w.sms(e164));
    const other = await w.update(id, { leadStatus: 'Junk' }, { otp: [{ rule: String(rule.id), code }] });
    expect(other.userErrors[0]).toMatchObject({ code: 'OTP_INVALID', details: { reason: 'OTHER_CHANGE' } });
    expect((await w.update(id, { leadStatus: 'Contacted' }, { otp: [{ rule: String(rule.id), code }] })).userErrors).toEqual([]);
    expect(await statusOf(id)).toBe('Contacted');
  });

  test('fields outside the rule\'s conditions are not bound: the same code still allows other edits in the save', async () => {
    const { id, e164 } = await lead();
    const rule = await w.createRule(statusChange());
    await w.sendRuleOtp(rule.id, id, { intendedFields: { leadStatus: 'Qualified', company: 'Acme' } });
    const code = codeIn(await w.sms(e164));
    const saved = await w.update(id, { leadStatus: 'Qualified', company: 'Other Corp' }, { otp: [{ rule: String(rule.id), code }] });
    expect(saved.userErrors).toEqual([]);
  });
});

describe('attacker: sends a code for a change that makes no sense', () => {
  test('intendedFields is validated like a save: every failing field at once, and nothing is sent', async () => {
    const { id } = await lead();
    const rule = await w.createRule(statusChange());
    const res = await w.sendRuleOtp(rule.id, id, { intendedFields: { leadStatus: 'Bogus', annualRevenue: 'lots', noSuchField: 1 } });
    expect(res.otpRequest).toBeNull();
    expect(res.userErrors.map((e) => [e.field, e.code])).toEqual(expect.arrayContaining([
      [['intendedFields', 'leadStatus'], 'INVALID'], [['intendedFields', 'annualRevenue'], 'INVALID'], [['intendedFields', 'noSuchField'], 'UNKNOWN_FIELD'],
    ]));
    expect(res.userErrors).toHaveLength(3);
    const notMatching = await w.sendRuleOtp(rule.id, id, { intendedFields: { company: 'Acme' } });
    expect(notMatching.userErrors).toEqual([expect.objectContaining({ code: 'INVALID', field: ['intendedFields'] })]);
    expect(await w.t.sql('SELECT id FROM otp_requests WHERE record_id = $1', [id])).toEqual([]);
  });
});

describe('attacker: edits the rule after the code was sent', () => {
  test('lowering validity and attempts does not void a code already sent', async () => {
    const { id, e164 } = await lead();
    const rule = await w.createRule(statusChange({ validForSeconds: 600, maxValidationAttempts: 3 }));
    const sent = await w.sendRuleOtp(rule.id, id);
    const code = codeIn(await w.sms(e164));
    expect(await w.updateRule(rule.id, { validForSeconds: 30, maxValidationAttempts: 1 })).toEqual([]);

    const wrong = await w.update(id, { leadStatus: 'Qualified' }, { otp: [{ rule: String(rule.id), code: code === '000000' ? '111111' : '000000' }] });
    expect(wrong.userErrors[0]).toMatchObject({ code: 'OTP_INVALID', details: { attemptsLeft: 2 } });
    // a minute later the new 30 s validity would have ended it; the OTP keeps the 600 s it was sent with
    await w.t.sql("UPDATE otp_requests SET created_at = created_at - interval '60 seconds', last_sent_at = last_sent_at - interval '60 seconds' WHERE id = $1", [sent.otpRequest.id]);
    const saved = await w.update(id, { leadStatus: 'Qualified' }, { otp: [{ rule: String(rule.id), code }] });
    expect(saved.userErrors).toEqual([]);
  });

  test('raising the attempts does not give a code already sent more guesses', async () => {
    const { id, e164 } = await lead();
    const rule = await w.createRule(statusChange({ maxValidationAttempts: 2 }));
    await w.sendRuleOtp(rule.id, id);
    const code = codeIn(await w.sms(e164));
    expect(await w.updateRule(rule.id, { maxValidationAttempts: 10 })).toEqual([]);
    const wrongCode = code === '000000' ? '111111' : '000000';
    const guess = async (c: string) => (await w.update(id, { leadStatus: 'Qualified' }, { otp: [{ rule: String(rule.id), code: c }] })).userErrors[0];
    expect(await guess(wrongCode)).toMatchObject({ code: 'OTP_INVALID', details: { attemptsLeft: 1 } });
    expect(await guess(wrongCode)).toMatchObject({ code: 'OTP_LOCKED' });
    expect(codes([await guess(code)])).toEqual(['OTP_LOCKED']);
    expect(await statusOf(id)).toBe('New');
  });
});
