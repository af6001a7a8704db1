import { startTestServer, type TestServer } from '../support/test-server';
import { sendSms } from './otp-helpers';

let t: TestServer;
beforeAll(async () => { t = await startTestServer('otp_service', { OTP_WORKER: 'false' }); });
afterAll(() => t.close());

class RolledBack extends Error {}

/** verifyWithin is what a guarded record save (OTP rules) will call inside its own transaction. */
describe('otpService.verifyWithin', () => {
  test('a right code is consumed only when the caller\'s transaction commits', async () => {
    const sent = await sendSms(t, { otpCode: '3141' });
    const otp = t.app.services.otp;
    const db = t.app.db.dataSource;
    await expect(db.transaction(async (tx) => {
      const result = await otp.verifyWithin(tx, sent.otpRequest.id, '3141');
      expect(result.verified).toBe(true);
      throw new RolledBack(); // the save failed for another reason
    })).rejects.toBeInstanceOf(RolledBack);
    expect((await t.sql('SELECT status FROM otp_requests WHERE id = $1', [sent.otpRequest.id]))[0].status).toBe('PENDING');
    const committed = await db.transaction((tx) => otp.verifyWithin(tx, sent.otpRequest.id, '3141'));
    expect(committed).toMatchObject({ verified: true, otpRequest: { id: sent.otpRequest.id, status: 'VERIFIED' } });
  });

  test('a wrong code counts even when the caller\'s transaction rolls back', async () => {
    const sent = await sendSms(t, { otpCode: '2718' });
    const otp = t.app.services.otp;
    await expect(t.app.db.dataSource.transaction(async (tx) => {
      const result = await otp.verifyWithin(tx, sent.otpRequest.id, '0000');
      expect(result).toMatchObject({ verified: false, reason: 'OTP_INVALID', attemptsLeft: 4 });
      throw new RolledBack();
    })).rejects.toBeInstanceOf(RolledBack);
    expect((await t.sql('SELECT attempts FROM otp_requests WHERE id = $1', [sent.otpRequest.id]))[0].attempts).toBe(1);
  });

  test('per-send options override the policy (validity, attempts)', async () => {
    const request = await t.app.services.otp.send(adminCtx(), { mobile_no: '9123456780', channel: 'sms', source: 'rule_12', type: 'simple_otp', otp_code: '5150' }, { validitySeconds: 60, maxAttempts: 2 });
    expect(request.maxAttempts).toBe(2);
    expect(request.expiresAt.getTime() - request.createdAt.getTime()).toBeLessThanOrEqual(61_000);
  });

  test('SAME_CODE_IF_VALID resends the same code and keeps the expiry; the sealed copy is erased once it ends', async () => {
    const otp = t.app.services.otp;
    const request = await otp.send(adminCtx(), { mobile_no: '9123456781', channel: 'sms|whatsapp', source: 'rule_13', type: 'simple_otp' }, { resendMode: 'SAME_CODE_IF_VALID', resendCooldownSeconds: 0 });
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

function adminCtx() {
  return {
    requestId: 'test', user: { id: '00000000-0000-4000-8000-000000000001', role: 'ADMIN' }, apiKeyId: null, headers: {},
    db: t.app.db.dataSource, loaders: {} as never, log: t.app.log,
  } as never;
}
