import { RuleOtpWorld, codeIn, codes, deactivation } from './rule-otp-helpers';

const w = new RuleOtpWorld();
beforeAll(() => w.start('rule_otp_refused_send', { OTP_SEND_LIMIT_PER_RECIPIENT_15MIN: '2' }));
afterAll(() => w.stop());

describe('attacker: hammers "Send OTP" to kill the customer\'s live code', () => {
  test('a sendRuleOtp refused by the per-recipient limit leaves the live code valid', async () => {
    const contact = await w.contact();
    const rule = await w.createRule(deactivation({ resendMode: 'NEW_CODE' }));
    expect((await w.sendRuleOtp(rule.id, contact.id)).userErrors).toEqual([]);
    const second = await w.sendRuleOtp(rule.id, contact.id);
    expect(second.userErrors).toEqual([]);
    const code = codeIn(await w.smsOf(second.otpRequest.id, contact.e164));

    const refused = await w.sendRuleOtp(rule.id, contact.id);
    expect(codes(refused.userErrors)).toEqual(['RATE_LIMITED']);
    expect((await w.t.sql('SELECT status FROM otp_requests WHERE id = $1', [second.otpRequest.id]))[0].status).toBe('PENDING');

    const saved = await w.update(contact.id, { contactStatus: 'Inactive' }, { otp: [{ rule: String(rule.id), code }] });
    expect(saved.userErrors).toEqual([]);
  });
});
