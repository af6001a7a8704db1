import { MOBILE, MOBILE_CODE, RuleWorld, type Rule } from './rule-world';

// One attempt model for rule OTPs: the rule's count per (rule, record) is the only limit; its lock kills the OTP.
const w = new RuleWorld();
beforeAll(() => w.start('rule_attempts'));
afterAll(() => w.stop());
afterEach(() => w.deactivateRules());
const { codes } = RuleWorld;

const deactivation = (extra: Record<string, unknown> = {}) => ({
  module: 'Contacts', channels: ['SMS'], recipientField: 'mobile', maxValidationAttempts: 3, resetValidationAfterSeconds: 600,
  conditions: [{ match: 'ALL', conditions: [{ field: 'contactStatus', operator: 'HAS_CHANGED_TO', value: 'Inactive' }] }],
  ...extra,
});
const contact = () => w.create('Contacts', { lastName: `Attempts ${Math.random()}`, mobile: MOBILE, contactStatus: 'Active' });
const deactivate = (rule: Rule, id: string, code: string) => w.update(id, { contactStatus: 'Inactive' }, [{ rule: String(rule.id), code }]);
const advance = (seconds: number) => w.t.app.services.clock.advance(seconds * 1000);
const otpStatus = async (otpRequestId: string) => (await w.t.sql('SELECT status FROM otp_requests WHERE id = $1', [otpRequestId]))[0].status;

describe('attacker: guessing a rule OTP up to the limit and past it', () => {
  test('attempt max-1 says 1 left and the right code then still works (the last attempt is a real one)', async () => {
    const rule = await w.createRule(deactivation());
    const id = await contact();
    await w.sendRuleOtp(rule, id);
    expect((await deactivate(rule, id, '000000')).userErrors[0]).toMatchObject({ code: 'OTP_INVALID', details: { attemptsLeft: 2 } });
    expect((await deactivate(rule, id, '000001')).userErrors[0]).toMatchObject({ code: 'OTP_INVALID', details: { attemptsLeft: 1 } });
    const saved = await deactivate(rule, id, MOBILE_CODE);
    expect(saved.userErrors).toEqual([]);
    expect(saved.record!.fields.contactStatus).toBe('Inactive');
    // a right code clears the count: the next guarded change starts with the full allowance
    expect((await w.update(id, { contactStatus: 'Active' })).userErrors).toEqual([]);
    await w.sendRuleOtp(rule, id);
    expect((await deactivate(rule, id, '000002')).userErrors[0]).toMatchObject({ code: 'OTP_INVALID', details: { attemptsLeft: 2 } });
  });

  test('the last wrong code locks for resetValidationAfterSeconds and kills the OTP; the first save after the reset needs a new OTP', async () => {
    const rule = await w.createRule(deactivation());
    const id = await contact();
    const otp = await w.sendRuleOtp(rule, id);
    await deactivate(rule, id, '000000');
    await deactivate(rule, id, '000001');
    const last = await deactivate(rule, id, '000002');
    expect(last.userErrors).toEqual([expect.objectContaining({ code: 'OTP_LOCKED', details: expect.objectContaining({ retryAfterSeconds: 600, attemptsLeft: 0 }) })]);
    expect(await otpStatus(otp)).toBe('MAX_ATTEMPTS_REACHED');
    // the CRM is told: one otp.failed_attempt saying the OTP is locked, written with the lock-out
    expect(await w.t.sql(`SELECT data FROM event_outbox WHERE subject = $1 AND type = 'otp.failed_attempt'`, [`otp_request:${otp}`]))
      .toEqual([{ data: { otpRequestId: otp, attempts: 3, maxAttempts: 3, attemptsLeft: 0, locked: true } }]);

    advance(599);
    expect((await deactivate(rule, id, MOBILE_CODE)).userErrors[0]).toMatchObject({ code: 'OTP_LOCKED', details: { retryAfterSeconds: 1 } });
    advance(1);
    // the lock is over and counting starts again; the old code died with the lock (a wrong code, 2 left: true)
    expect((await deactivate(rule, id, MOBILE_CODE)).userErrors[0]).toMatchObject({ code: 'OTP_INVALID', details: { attemptsLeft: 2 } });
    await w.sendRuleOtp(rule, id);
    expect((await deactivate(rule, id, MOBILE_CODE)).userErrors).toEqual([]);
  });

  test('spreading guesses over time does not buy more: the count lasts until a right code or a lock', async () => {
    const rule = await w.createRule(deactivation());
    const id = await contact();
    const otp = await w.sendRuleOtp(rule, id);
    await deactivate(rule, id, '000000');
    await deactivate(rule, id, '000001');
    advance(3600);
    expect((await deactivate(rule, id, '000002')).userErrors[0]).toMatchObject({ code: 'OTP_LOCKED', details: { retryAfterSeconds: 600 } });
    expect(await otpStatus(otp)).toBe('MAX_ATTEMPTS_REACHED');
    advance(600);
    await w.sendRuleOtp(rule, id);
    expect((await deactivate(rule, id, '000003')).userErrors[0]).toMatchObject({ code: 'OTP_INVALID', details: { attemptsLeft: 2 } });
  });

  test('a new send in the middle does not reset the count: the attempts left stay true across OTPs', async () => {
    const rule = await w.createRule(deactivation());
    const id = await contact();
    await w.sendRuleOtp(rule, id);
    await deactivate(rule, id, '000000');
    await deactivate(rule, id, '000001');
    const second = await w.sendRuleOtp(rule, id);
    expect((await deactivate(rule, id, '000002')).userErrors[0]).toMatchObject({ code: 'OTP_LOCKED' });
    expect(await otpStatus(second)).toBe('MAX_ATTEMPTS_REACHED');
  });

  test('raising the rule\'s limit after a send buys no guesses against the OTP already sent, and the count says so', async () => {
    const rule = await w.createRule(deactivation());
    const id = await contact();
    const otp = await w.sendRuleOtp(rule, id);
    await w.updateRule(rule.id, { maxValidationAttempts: 10 });
    expect((await deactivate(rule, id, '000000')).userErrors[0]).toMatchObject({ code: 'OTP_INVALID', details: { attemptsLeft: 2 } });
    expect((await deactivate(rule, id, '000001')).userErrors[0]).toMatchObject({ code: 'OTP_INVALID', details: { attemptsLeft: 1 } });
    expect((await deactivate(rule, id, '000002')).userErrors[0]).toMatchObject({ code: 'OTP_LOCKED' });
    expect(await otpStatus(otp)).toBe('MAX_ATTEMPTS_REACHED');
    advance(600);
    // a new OTP is sent with the new limit
    await w.sendRuleOtp(rule, id);
    expect((await deactivate(rule, id, '000003')).userErrors[0]).toMatchObject({ code: 'OTP_INVALID', details: { attemptsLeft: 9 } });
  });

  test('wrong codes count although the save rolls back, also when another rule refuses the same save', async () => {
    const guessed = await w.createRule(deactivation());
    await w.createRule(deactivation()); // a second rule without an OTP: the save is refused for it too
    const id = await contact();
    await w.sendRuleOtp(guessed, id);
    const refused = await deactivate(guessed, id, '000000');
    expect(codes(refused).sort()).toEqual(['OTP_INVALID', 'OTP_REQUIRED']);
    expect(await w.t.sql('SELECT failures FROM otp_rule_validation_failures WHERE rule_id = $1 AND record_id = $2', [guessed.id, id])).toEqual([{ failures: 1 }]);
    expect((await deactivate(guessed, id, '000001')).userErrors.find((e) => e.code === 'OTP_INVALID')).toMatchObject({ details: { attemptsLeft: 1 } });
  });
});

describe('attacker: one wrong rule OTP counted twice', () => {
  const failures = async (rule: Rule, id: string) =>
    (await w.t.sql('SELECT failures FROM otp_rule_validation_failures WHERE rule_id = $1 AND record_id = $2', [rule.id, id]))[0]?.failures ?? 0;
  const otpRow = async (otpRequestId: string) => (await w.t.sql('SELECT status, attempts FROM otp_requests WHERE id = $1', [otpRequestId]))[0];

  test('one wrong rule OTP increments exactly one counter: the rule\'s count for the record, not the OTP\'s attempts', async () => {
    const rule = await w.createRule(deactivation());
    const id = await contact();
    const otp = await w.sendRuleOtp(rule, id);
    expect((await deactivate(rule, id, '000000')).userErrors[0]).toMatchObject({ code: 'OTP_INVALID', details: { attemptsLeft: 2 } });
    expect(await failures(rule, id)).toBe(1);
    expect(await otpRow(otp)).toEqual({ status: 'PENDING', attempts: 0 });
    expect((await deactivate(rule, id, '000001')).userErrors[0]).toMatchObject({ code: 'OTP_INVALID', details: { attemptsLeft: 1 } });
    expect(await failures(rule, id)).toBe(2);
    expect(await otpRow(otp)).toEqual({ status: 'PENDING', attempts: 0 });
  });
});
