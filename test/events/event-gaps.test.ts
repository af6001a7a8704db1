import { Client } from 'pg';
import { until } from '../support/poll';
import { startTestServer, type TestServer } from '../support/test-server';
import { SEND, VERIFY, freshMobile, waitForRows } from '../otp/otp-helpers';

/**
 * The changes that used to happen without their domain event (docs/events.md): each now writes it, exactly once, with
 * the change or (an expiry settled by a verify or a send) by the expiry sweep that follows it.
 */

let t: TestServer;
let second: TestServer | null = null;

beforeAll(async () => {
  t = await startTestServer('event_gaps', { OTP_EXPIRY_SWEEP_MS: '100', OTP_SEND_LIMIT_PER_KEY_MINUTE: '500' });
});
afterAll(async () => {
  await second?.close();
  await t?.close();
});

interface OutboxRow { id: string; type: string; subject: string; data: Record<string, any> }
const eventsOf = (subject: string) => t.sql<OutboxRow>('SELECT id, type, subject, data FROM event_outbox WHERE subject = $1 ORDER BY id', [subject]);

async function send(mobile: string, source = 'event_gaps'): Promise<string> {
  const res = await t.gql(SEND, { input: { mobileNo: mobile, channels: ['SMS'], source, type: 'simple_otp' } });
  expect(res.body.data.sendOtp.userErrors).toEqual([]);
  return res.body.data.sendOtp.otpRequest.id;
}

/**
 * The scene for "a verify or a send meets an expired OTP before the sweep does": a second session holds the requests
 * with FOR KEY SHARE, which the sweep's FOR UPDATE SKIP LOCKED skips but a verify's or a send's UPDATE does not wait
 * for; their 10 minutes are then over. `release` lets the sweep see them again.
 */
async function expiredOutOfSweepsReach(ids: string[]): Promise<{ release(): Promise<void> }> {
  const holder = new Client({ connectionString: t.databaseUrl });
  await holder.connect();
  await holder.query('BEGIN');
  await holder.query('SELECT id FROM otp_requests WHERE id = ANY($1::uuid[]) FOR KEY SHARE', [ids]);
  await t.sql("UPDATE otp_requests SET expires_at = now() - interval '1 second' WHERE id = ANY($1::uuid[])", [ids]);
  return {
    async release() {
      await holder.query('COMMIT');
      await holder.end();
    },
  };
}

describe('attacker: an expired code used before the sweep leaves no otp.expired for the CRM', () => {
  test('a verify of an expired OTP settles it; the sweep then publishes exactly one otp.expired, built like every other', async () => {
    const mobile = freshMobile();
    const id = await send(mobile);
    const scene = await expiredOutOfSweepsReach([id]);
    try {
      const verified = await t.gql(VERIFY, { input: { otpRequestId: id, code: '000000' } });
      expect(verified.body.data.verifyOtp.verified).toBe(false);
      expect(verified.body.data.verifyOtp.userErrors[0].code).toBe('OTP_EXPIRED');
      expect(await t.sql('SELECT status FROM otp_requests WHERE id = $1', [id])).toEqual([{ status: 'EXPIRED' }]); // settled by the verify
    } finally {
      await scene.release();
    }
    await waitForRows(t, 'SELECT expiry_unannounced FROM otp_requests WHERE id = $1', [id], (rows) => rows[0]?.expiry_unannounced === false);
    const expired = (await eventsOf(`otp_request:${id}`)).filter((e) => e.type === 'otp.expired');
    expect(expired).toHaveLength(1);
    expect(expired[0].data).toMatchObject({ otpRequestId: id, status: 'EXPIRED', mobile: expect.stringMatching(/\*/), attempts: 0 });
    expect(JSON.stringify(expired[0].data)).not.toContain(mobile.slice(-6));
  });

  test('a new send that replaces an expired live OTP: exactly one otp.expired for the old one, and no otp.canceled', async () => {
    const mobile = freshMobile();
    const old = await send(mobile);
    const scene = await expiredOutOfSweepsReach([old]);
    let next = '';
    try {
      next = await send(mobile); // the pipelined send settles the old one in its own message
      expect(await t.sql('SELECT status, expiry_unannounced FROM otp_requests WHERE id = $1', [old])).toEqual([{ status: 'EXPIRED', expiry_unannounced: true }]);
    } finally {
      await scene.release();
    }
    await waitForRows(t, 'SELECT expiry_unannounced FROM otp_requests WHERE id = $1', [old], (rows) => rows[0]?.expiry_unannounced === false);
    const types = (await eventsOf(`otp_request:${old}`)).map((e) => e.type).filter((type) => type !== 'otp.delivery.updated');
    expect(types).toEqual(['otp.sent', 'otp.expired']);
    expect((await eventsOf(`otp_request:${next}`)).filter((e) => e.type === 'otp.expired')).toEqual([]);
  });

  test('two instances sweeping at once: still one otp.expired per settled OTP', async () => {
    second = await startTestServer('event_gaps_second', { OTP_EXPIRY_SWEEP_MS: '100' }, t);
    const ids = await Promise.all(Array.from({ length: 12 }, () => send(freshMobile(), 'event_gaps_two')));
    const scene = await expiredOutOfSweepsReach(ids);
    try {
      const answers = await Promise.all(ids.map((id) => t.gql(VERIFY, { input: { otpRequestId: id, code: '000000' } })));
      expect(answers.map((a) => a.body.data.verifyOtp.userErrors[0].code)).toEqual(ids.map(() => 'OTP_EXPIRED'));
    } finally {
      await scene.release();
    }
    await until('every expiry announced', async () => {
      const [{ n }] = await t.sql('SELECT count(*)::int AS n FROM otp_requests WHERE id = ANY($1::uuid[]) AND expiry_unannounced', [ids]);
      return n === 0;
    }, 20_000);
    const rows = await t.sql<{ subject: string; n: number }>(
      `SELECT subject, count(*)::int AS n FROM event_outbox WHERE type = 'otp.expired' AND subject = ANY($1::text[]) GROUP BY subject`,
      [ids.map((id) => `otp_request:${id}`)]);
    expect(rows.map((r) => r.n)).toEqual(ids.map(() => 1));
    await second.close();
    second = null;
  });
});
