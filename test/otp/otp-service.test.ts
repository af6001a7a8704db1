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
    const ctx = {
      requestId: 'test', user: { id: '00000000-0000-4000-8000-000000000001', role: 'ADMIN' }, apiKeyId: null, headers: {},
      db: t.app.db.dataSource, loaders: {} as never, log: t.app.log,
    } as never;
    const request = await t.app.services.otp.send(ctx, { mobile_no: '9123456780', channel: 'sms', source: 'rule_12', type: 'simple_otp', otp_code: '5150' }, { validitySeconds: 60, maxAttempts: 2 });
    expect(request.maxAttempts).toBe(2);
    expect(request.expiresAt.getTime() - request.createdAt.getTime()).toBeLessThanOrEqual(61_000);
  });
});
