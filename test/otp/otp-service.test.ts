import { startTestServer, type TestServer } from '../support/test-server';
import { sendSms } from './otp-helpers';

let t: TestServer;
beforeAll(async () => { t = await startTestServer('otp_service', { OTP_WORKER: 'false' }); });
afterAll(() => t.close());

class RolledBack extends Error {}

/** checkRuleCode is what a guarded record save (OTP rules) calls inside its own transaction. */
describe('otpService.checkRuleCode', () => {
  test('a right code is consumed only when the caller\'s transaction commits', async () => {
    const sent = await sendRuleOtp('3141');
    const otp = t.app.services.otp;
    const db = t.app.db.dataSource;
    await expect(db.transaction(async (tx) => {
      const result = await otp.checkRuleCode(tx, sent.id, '3141');
      expect(result.verified).toBe(true);
      throw new RolledBack(); // the save failed for another reason
    })).rejects.toBeInstanceOf(RolledBack);
    expect((await t.sql('SELECT status FROM otp_requests WHERE id = $1', [sent.id]))[0].status).toBe('PENDING');
    const committed = await db.transaction((tx) => otp.checkRuleCode(tx, sent.id, '3141'));
    expect(committed).toMatchObject({ verified: true, otpRequest: { id: sent.id, status: 'VERIFIED' } });
  });

  test('a wrong code is not counted on the OTP: the rule counts it, once', async () => {
    const sent = await sendRuleOtp('2718');
    const otp = t.app.services.otp;
    await expect(t.app.db.dataSource.transaction(async (tx) => {
      const result = await otp.checkRuleCode(tx, sent.id, '0000');
      expect(result).toMatchObject({ verified: false, reason: 'OTP_INVALID' });
      throw new RolledBack();
    })).rejects.toBeInstanceOf(RolledBack);
    expect((await t.sql('SELECT status, attempts FROM otp_requests WHERE id = $1', [sent.id]))[0]).toEqual({ status: 'PENDING', attempts: 0 });
  });

  test('attacker: an OTP from sendOtp (a code they chose) never passes as a rule OTP', async () => {
    const sent = await sendSms(t, { otpCode: '1618' });
    const result = await t.app.db.dataSource.transaction((tx) => t.app.services.otp.checkRuleCode(tx, sent.otpRequest.id, '1618'));
    expect(result).toMatchObject({ verified: false, reason: 'OTP_INVALID' });
    expect((await t.sql('SELECT status FROM otp_requests WHERE id = $1', [sent.otpRequest.id]))[0].status).toBe('PENDING');
  });
});

describe('otpService', () => {
  test('per-send options override the policy (validity, attempts)', async () => {
    const request = await t.app.services.otp.send(adminCtx(), { mobileNo: '9123456780', channels: ['SMS'], source: 'rule_12', type: 'simple_otp', otpCode: '5150' }, { validitySeconds: 60, maxAttempts: 2 });
    expect(request.maxAttempts).toBe(2);
    expect(request.expiresAt.getTime() - request.createdAt.getTime()).toBeLessThanOrEqual(61_000);
  });

  test('SAME_CODE_IF_VALID resends the same code and keeps the expiry; the sealed copy is erased once it ends', async () => {
    const otp = t.app.services.otp;
    const request = await otp.send(adminCtx(), { mobileNo: '9123456781', channels: ['SMS', 'WHATSAPP'], source: 'rule_13', type: 'simple_otp' }, { resendMode: 'SAME_CODE_IF_VALID', resendCooldownSeconds: 0 });
    const [before] = await t.sql('SELECT code_hash, code_sealed, expires_at FROM otp_requests WHERE id = $1', [request.id]);
    expect(before.code_sealed).not.toBeNull();
    const resent = await otp.resend(adminCtx(), request.id, ['SMS']);
    expect(resent.sendCount).toBe(2);
    const [after] = await t.sql('SELECT code_hash, expires_at FROM otp_requests WHERE id = $1', [request.id]);
    expect(after).toEqual({ code_hash: before.code_hash, expires_at: before.expires_at });
    const deliveries = await t.sql('SELECT channel FROM otp_deliveries WHERE otp_request_id = $1 ORDER BY created_at, channel', [request.id]);
    expect(deliveries.map((d) => d.channel)).toEqual(['SMS', 'WHATSAPP', 'SMS']);
    await otp.cancel(adminCtx(), request.id);
    const [canceled] = await t.sql('SELECT status, code_sealed FROM otp_requests WHERE id = $1', [request.id]);
    expect(canceled).toEqual({ status: 'CANCELED', code_sealed: null });
  });
});

let ruleIds = 100;
/** A rule OTP as OTP rules send it (issuedBy RULE), with a known code; otp_requests.rule_id is a plain reference. */
function sendRuleOtp(code: string) {
  ruleIds += 1;
  return t.app.services.otp.sendValidated(adminCtx(), {
    channels: ['SMS'], workflow: null, mobile: `+9191234${String(ruleIds).padStart(5, '0')}`, email: null, emailFromName: null, emailSubject: null, emailTemplateId: null,
    emailTemplateAttributes: {}, source: `otp_rule_${ruleIds}`, type: 'simple_otp', codeLength: code.length, codeType: 'NUMERIC', code,
    ruleId: ruleIds, recordId: null, issuedBy: 'RULE', intendedFields: null, smsTemplateId: null, whatsappTemplateId: null, messageVariables: {},
  });
}

function adminCtx() {
  return {
    requestId: 'test', user: { id: '00000000-0000-4000-8000-000000000001', role: 'ADMIN' }, apiKeyId: null, ruleOtpHeaders: {},
    loaders: {} as never, log: t.app.log,
  } as never;
}
