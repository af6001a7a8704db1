import { RuleOtpWorld, codeIn, codes, deactivation } from './rule-otp-helpers';
import { CANCEL, RESEND, VERIFY, restPost, sendSms } from '../otp/otp-helpers';

// A rule OTP has one legitimate consumer: the guarded save. The generic OTP doors (verifyOtp, REST verify-otp,
// resendOtp, cancelOtp) treat it as if it did not exist, so nobody can burn, probe, resend or cancel a customer's code.
const w = new RuleOtpWorld();
let user: { key: string; userId: string };
beforeAll(async () => {
  await w.start('rule_otp_doors_review');
  user = await w.t.keyFor('USER');
});
afterAll(() => w.stop());
afterEach(() => w.deactivateRules());

const otpArg = (ruleId: number, code: string) => [{ rule: String(ruleId), code }];
const rowOf = async (id: string) => (await w.t.sql('SELECT status, attempts, send_count FROM otp_requests WHERE id = $1', [id]))[0];

/** A contact guarded by the deactivation rule, with the rule's OTP sent by `user` and read from the customer's SMS. */
async function sentRuleOtp() {
  const rule = await w.createRule(deactivation({ maxValidationAttempts: 3 }));
  const contact = await w.contact();
  const sent = await w.sendRuleOtp(rule.id, contact.id, { key: user.key });
  expect(sent.userErrors).toEqual([]);
  const code = codeIn(await w.smsOf(sent.otpRequest.id, contact.e164));
  return { rule, contact, otpRequestId: sent.otpRequest.id as string, code };
}

describe('attacker: verifyOtp against a rule OTP they sent themselves', () => {
  test('the right code by id is refused like an unknown request and does not use the OTP up; the guarded save still takes it', async () => {
    const { rule, contact, otpRequestId, code } = await sentRuleOtp();
    for (const key of [user.key, w.t.adminKey]) {
      const res = await w.t.gql(VERIFY, { input: { otpRequestId, code } }, { key });
      expect(res.body.data.verifyOtp).toMatchObject({ verified: false, otpRequest: null, userErrors: [expect.objectContaining({ code: 'OTP_INVALID' })] });
    }
    expect(await rowOf(otpRequestId)).toMatchObject({ status: 'PENDING', attempts: 0 });
    const saved = await w.update(contact.id, { contactStatus: 'Inactive' }, { key: user.key, otp: otpArg(rule.id, code) });
    expect(saved.userErrors).toEqual([]);
  });

  test('wrong codes by id, by recipient + otp_rule_<id> source and over REST never count against the rule OTP', async () => {
    const { rule, contact, otpRequestId, code } = await sentRuleOtp();
    const wrong = code === '000000' ? '000001' : '000000';
    for (let i = 0; i < 3; i += 1) {
      await w.t.gql(VERIFY, { input: { otpRequestId, code: wrong } }, { key: user.key });
      await w.t.gql(VERIFY, { input: { mobileNo: contact.mobile, source: `otp_rule_${rule.id}`, code: wrong } }, { key: user.key });
      const rest = await restPost(w.t, '/api/verify-otp', { otp_request_id: otpRequestId, code: wrong }, user.key);
      expect(rest.status).toBe(400);
    }
    // by recipient, even the right code answers as for a recipient with no request
    const byRecipient = await w.t.gql(VERIFY, { input: { mobileNo: contact.mobile, source: `otp_rule_${rule.id}`, code } }, { key: user.key });
    expect(byRecipient.body.data.verifyOtp.verified).toBe(false);
    const restRight = await restPost(w.t, '/api/verify-otp', { mobile_no: contact.mobile, source: `otp_rule_${rule.id}`, code }, user.key);
    expect(restRight.status).toBe(400);

    expect(await rowOf(otpRequestId)).toMatchObject({ status: 'PENDING', attempts: 0 });
    expect((await w.update(contact.id, { contactStatus: 'Inactive' }, { key: user.key, otp: otpArg(rule.id, code) })).userErrors).toEqual([]);
  });
});

describe('attacker: resendOtp and cancelOtp on a customer\'s rule OTP', () => {
  test('both answer NOT_FOUND (as for a request that does not exist), change nothing, and the code still saves', async () => {
    const { rule, contact, otpRequestId, code } = await sentRuleOtp();
    await w.t.sql("UPDATE otp_requests SET last_sent_at = last_sent_at - interval '1 hour' WHERE id = $1", [otpRequestId]); // past any cooldown
    for (const key of [user.key, w.t.adminKey]) {
      const resend = await w.t.gql(RESEND, { id: otpRequestId }, { key });
      expect(resend.body.data.resendOtp).toEqual({ otpRequest: null, userErrors: [{ field: ['otpRequestId'], message: 'No OTP request has this id.', code: 'NOT_FOUND' }] });
      const cancel = await w.t.gql(CANCEL, { id: otpRequestId }, { key });
      expect(cancel.body.data.cancelOtp).toEqual({ otpRequest: null, userErrors: [{ field: ['otpRequestId'], message: 'No OTP request has this id.', code: 'NOT_FOUND' }] });
    }
    expect(await rowOf(otpRequestId)).toMatchObject({ status: 'PENDING', send_count: 1 });
    expect(w.smsCount(contact.e164)).toBe(1);
    expect((await w.update(contact.id, { contactStatus: 'Inactive' }, { key: user.key, otp: otpArg(rule.id, code) })).userErrors).toEqual([]);
  });

  test('plain sendOtp requests keep every door: verify, resend and cancel still work for them', async () => {
    const sent = await sendSms(w.t, { otpCode: '4242' }, user.key);
    expect(sent.userErrors).toEqual([]);
    const id = sent.otpRequest.id;
    await w.t.sql("UPDATE otp_requests SET last_sent_at = last_sent_at - interval '1 hour' WHERE id = $1", [id]);
    expect((await w.t.gql(RESEND, { id }, { key: user.key })).body.data.resendOtp.userErrors).toEqual([]);
    expect((await w.t.gql(VERIFY, { input: { otpRequestId: id, code: '4242' } }, { key: user.key })).body.data.verifyOtp.verified).toBe(true);
    const other = await sendSms(w.t, {}, user.key);
    expect(codes((await w.t.gql(CANCEL, { id: other.otpRequest.id }, { key: user.key })).body.data.cancelOtp.userErrors)).toEqual([]);
  });
});
