import { startTestServer, type TestServer } from '../support/test-server';
import { freshMobile, restPost } from './otp-helpers';

// Small limits: 6 per recipient per 15 minutes but 5 per day, so the daily limiter is the one that refuses; 7 per key.
let t: TestServer;
beforeAll(async () => {
  t = await startTestServer('otp_refused_send', {
    OTP_WORKER: 'false', OTP_SEND_LIMIT_PER_RECIPIENT_15MIN: '6', OTP_SEND_LIMIT_PER_RECIPIENT_DAY: '5', OTP_SEND_LIMIT_PER_KEY_MINUTE: '7',
  });
});
afterAll(() => t.close());

const body = (mobile_no: string, extra: Record<string, unknown> = {}) => ({ mobile_no, channel: 'sms', source: 'refused', type: 'simple_otp', ...extra });

describe('attacker: a refused send to kill the customer\'s live code', () => {
  test('5 sends succeed, the 6th is RATE_LIMITED and the 5th code still verifies', async () => {
    const { key } = await t.keyFor('USER');
    const mobile = freshMobile();
    const ids: string[] = [];
    for (const code of ['1111', '2222', '3333', '4444', '5555']) {
      const sent = await restPost(t, '/api/send-otp', body(mobile, { otp_code: code }), key);
      expect(sent.status).toBe(200);
      ids.push(sent.body.data.otp_request_id);
    }
    const refused = await restPost(t, '/api/send-otp', body(mobile, { otp_code: '6666' }), key);
    expect(refused.status).toBe(429);
    expect(refused.body.data.reason).toBe('RATE_LIMITED');

    const [fifth] = await t.sql('SELECT status FROM otp_requests WHERE id = $1', [ids[4]]);
    expect(fifth.status).toBe('PENDING');
    expect(await t.sql(`SELECT count(*)::int AS n FROM otp_requests WHERE mobile = $1 AND status = 'PENDING'`, [`+91${mobile}`])).toEqual([{ n: 1 }]);
    const verified = await restPost(t, '/api/verify-otp', { mobile_no: mobile, source: 'refused', code: '5555' }, key);
    expect(verified.body).toEqual({ status: true, message: 'OTP verified', data: { otp_request_id: ids[4] } });
  });
});

describe('attacker: refused sends to drain the API key\'s budget', () => {
  test('a send the per-recipient-day limit refuses gives back the per-key minute point it took', async () => {
    const { key } = await t.keyFor('USER');
    const mobile = freshMobile();
    for (let i = 0; i < 5; i += 1) expect((await restPost(t, '/api/send-otp', body(mobile), key)).status).toBe(200); // key: 5 of 7
    for (let i = 0; i < 2; i += 1) {
      const refused = await restPost(t, '/api/send-otp', body(mobile), key);
      expect(refused.status).toBe(429);
      expect(refused.body.message).toMatch(/to this recipient today/);
    }
    // had the refused sends kept their key points, the key would be at 7 of 7 and both of these refused
    expect((await restPost(t, '/api/send-otp', body(freshMobile()), key)).status).toBe(200);
    expect((await restPost(t, '/api/send-otp', body(freshMobile()), key)).status).toBe(200);
    const limited = await restPost(t, '/api/send-otp', body(freshMobile()), key);
    expect(limited.status).toBe(429);
    expect(limited.body.message).toMatch(/with this API key/);
  });

  test('a send the per-key limit refuses leaves the recipient\'s counters untouched', async () => {
    const { key } = await t.keyFor('USER');
    const { key: other } = await t.keyFor('USER');
    const mobile = freshMobile();
    for (let i = 0; i < 7; i += 1) expect((await restPost(t, '/api/send-otp', body(freshMobile()), key)).status).toBe(200);
    for (let i = 0; i < 3; i += 1) expect((await restPost(t, '/api/send-otp', body(mobile), key)).status).toBe(429);
    // the recipient has had no accepted send: another key can still send it the full daily 5
    for (let i = 0; i < 5; i += 1) expect((await restPost(t, '/api/send-otp', body(mobile), other)).status).toBe(200);
    expect((await restPost(t, '/api/send-otp', body(mobile), other)).status).toBe(429);
  });
});

describe('attacker: a send that fails after its limits were committed (the limits go first, in their own transaction)', () => {
  test('the send\'s write fails: 500 with nothing written, and every limit point it took is given back', async () => {
    const { key } = await t.keyFor('USER');
    const mobile = freshMobile();
    // a database fault inside the send's own transaction, after the limits' transaction committed: a trigger that
    // refuses this one source's requests (the test's, dropped at the end)
    await t.sql(`CREATE FUNCTION refuse_faulty_send() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$`);
    await t.sql(`CREATE TRIGGER refuse_faulty_send BEFORE INSERT ON otp_requests FOR EACH ROW WHEN (NEW.source = 'faulty') EXECUTE FUNCTION refuse_faulty_send()`);
    try {
      for (let i = 0; i < 8; i += 1) { // more than the key's 7 and the recipient's 5: none of them may count
        const failed = await restPost(t, '/api/send-otp', body(mobile, { source: 'faulty' }), key);
        expect(failed.status).toBe(500);
        expect(JSON.stringify(failed.body)).not.toMatch(/injected fault|trigger|otp_requests/); // no internals to the client
      }
    } finally {
      await t.sql('DROP TRIGGER refuse_faulty_send ON otp_requests');
      await t.sql('DROP FUNCTION refuse_faulty_send()');
    }
    expect(await t.sql('SELECT count(*)::int AS n FROM otp_requests WHERE mobile = $1', [`+91${mobile}`])).toEqual([{ n: 0 }]);
    const points = await t.sql(`SELECT key, points FROM otp_rate_limits WHERE key LIKE $1 OR key LIKE $2 ORDER BY key`, [`%:+91${mobile}`, `otp_send_key:key:%`]);
    for (const row of points.filter((r: { key: string }) => r.key.endsWith(mobile))) expect(row.points).toBe(0);
    // the full budgets are still there: 5 sends to the recipient with this key, then the daily limit refuses
    for (let i = 0; i < 5; i += 1) expect((await restPost(t, '/api/send-otp', body(mobile), key)).status).toBe(200);
    expect((await restPost(t, '/api/send-otp', body(mobile), key)).status).toBe(429);
  });
});
