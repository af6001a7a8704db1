import { startTestServer, type TestServer } from '../support/test-server';
import { freshMobile, restPost } from './otp-helpers';

/**
 * The send and verify statements are prepared once per connection (src/db/pipelined-sql.ts). During a rolling deploy
 * another instance's migration can add a column to a table those statements read with `*`; Postgres then refuses to
 * run them again ("cached plan must not change result type"). The server must keep answering: the statement is sent
 * again on a fresh connection, and every other connection drops its prepared statements before its next message.
 */
let t: TestServer;
beforeAll(async () => { t = await startTestServer('otp_rolling_migration', { OTP_WORKER: 'false', OTP_TEST_RECIPIENTS: '+919000000002:246810' }); });
afterAll(() => t.close());

const send = (mobile: string) => restPost(t, '/api/send-otp', { mobile_no: mobile, channel: 'sms', source: 'rolling', type: 'simple_otp' });

describe('a rolling deploy: another instance adds (then drops) columns of the OTP tables while this one serves', () => {
  test('sends and verifies keep answering 200, on every connection of the pool, before and after the change', async () => {
    // warm several connections: their statements are now prepared
    for (const status of (await Promise.all(Array.from({ length: 12 }, () => send(freshMobile())))).map((r) => r.status)) expect(status).toBe(200);
    await t.sql('ALTER TABLE otp_requests ADD COLUMN zz_rolling int');
    await t.sql('ALTER TABLE otp_deliveries ADD COLUMN zz_rolling int');
    await t.sql('ALTER TABLE fraud_events ADD COLUMN zz_rolling int');
    try {
      const after = await Promise.all(Array.from({ length: 12 }, () => send(freshMobile())));
      expect(after.map((r) => r.status)).toEqual(Array(12).fill(200));
      const test = await send('9000000002');
      expect(test.status).toBe(200);
      const verified = await restPost(t, '/api/verify-otp', { otp_request_id: test.body.data.otp_request_id, code: '246810' });
      expect(verified.body).toMatchObject({ status: true });
    } finally {
      await t.sql('ALTER TABLE otp_requests DROP COLUMN zz_rolling');
      await t.sql('ALTER TABLE otp_deliveries DROP COLUMN zz_rolling');
      await t.sql('ALTER TABLE fraud_events DROP COLUMN zz_rolling');
    }
    // and back: the columns dropped again changes the result types once more
    const back = await Promise.all(Array.from({ length: 12 }, () => send(freshMobile())));
    expect(back.map((r) => r.status)).toEqual(Array(12).fill(200));
  });
});
