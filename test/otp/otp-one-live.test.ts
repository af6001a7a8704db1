import { createOtpRule, createRecord } from '../support/api';
import { startTestServer, type TestServer } from '../support/test-server';
import { CANCEL, SEND, VERIFY, freshMobile, restPost } from './otp-helpers';

// every abuse limit out of the way of the one-live-OTP invariant, the fraud guard's too: 50 unverified sends to one
// number are what it blocks once 20 have committed (test/fraud covers that), and a fast send commits them in time
const HIGH_LIMITS = {
  OTP_WORKER: 'false', OTP_SEND_LIMIT_PER_RECIPIENT_15MIN: '1000', OTP_SEND_LIMIT_PER_RECIPIENT_DAY: '1000',
  OTP_SEND_LIMIT_PER_KEY_MINUTE: '100000', OTP_VERIFY_FAILURE_LIMIT_PER_RECIPIENT_DAY: '100000', FRAUD_PREFIX_MIN_SENDS: '1000',
};
let t: TestServer; // NEW_CODE (the default)
let same: TestServer; // SAME_CODE_IF_VALID
beforeAll(async () => {
  t = await startTestServer('otp_one_live', HIGH_LIMITS);
  same = await startTestServer('otp_one_live_same', { ...HIGH_LIMITS, OTP_RESEND_MODE: 'SAME_CODE_IF_VALID', OTP_RESEND_COOLDOWN_SECONDS: '30' });
});
afterAll(async () => {
  await t.close();
  await same.close();
});

const body = (mobile_no: string, extra: Record<string, unknown> = {}) => ({ mobile_no, channel: 'sms', source: 'one_live', type: 'simple_otp', ...extra });
const STATUS = `query($id: ID!) { otpRequest(id: $id) { id status cancelReason } }`;

async function send(server: TestServer, mobile: string, code: string, key?: string): Promise<string> {
  const sent = await restPost(server, '/api/send-otp', body(mobile, { otp_code: code }), key ?? server.adminKey);
  expect(sent.status).toBe(200);
  return sent.body.data.otp_request_id;
}

describe('attacker: an older code after a new one was sent', () => {
  test('a new send supersedes the live one: the old code no longer verifies, by recipient or by id', async () => {
    const mobile = freshMobile();
    const first = await send(t, mobile, '1111');
    const second = await send(t, mobile, '2222');
    expect(second).not.toBe(first);

    const byRecipient = await restPost(t, '/api/verify-otp', { mobile_no: mobile, source: 'one_live', code: '1111' });
    expect(byRecipient.status).toBe(400);
    expect(byRecipient.body.data.reason).toBe('OTP_INVALID');
    const byId = await t.gql(VERIFY, { input: { otpRequestId: first, code: '1111' } });
    expect(byId.body.data.verifyOtp).toMatchObject({ verified: false, userErrors: [{ code: 'OTP_EXPIRED' }] });
    expect((await t.gql(STATUS, { id: first })).body.data.otpRequest).toEqual({ id: first, status: 'CANCELED', cancelReason: 'SUPERSEDED' });

    expect((await restPost(t, '/api/verify-otp', { mobile_no: mobile, source: 'one_live', code: '2222' })).body.data).toEqual({ otp_request_id: second });
  });

  test('once the newest is locked, an older code by recipient gets OTP_LOCKED, not more guesses', async () => {
    const mobile = freshMobile();
    await send(t, mobile, '1111');
    const newest = await send(t, mobile, '2222');
    for (let i = 0; i < 5; i += 1) await restPost(t, '/api/verify-otp', { otp_request_id: newest, code: '9999' });
    expect((await t.gql(STATUS, { id: newest })).body.data.otpRequest.status).toBe('MAX_ATTEMPTS_REACHED');
    // even a pending older request would not be consulted: revive it as a careless migration or a race might leave it
    await t.sql(`UPDATE otp_requests SET status = 'PENDING', cancel_reason = NULL WHERE mobile = $1 AND id <> $2`, [`+91${mobile}`, newest]);
    for (const code of ['1111', '2222', '3333']) {
      const answer = await restPost(t, '/api/verify-otp', { mobile_no: mobile, source: 'one_live', code });
      expect(answer.body.data).toEqual({ reason: 'OTP_LOCKED', attempts_left: 0 });
    }
  });

  test('cancelOtp says who canceled', async () => {
    const id = await send(t, freshMobile(), '1111');
    expect((await t.gql(CANCEL, { id })).body.data.cancelOtp.userErrors).toEqual([]);
    expect((await t.gql(STATUS, { id })).body.data.otpRequest).toEqual({ id, status: 'CANCELED', cancelReason: 'CANCELED_BY_USER' });
  });

  test('an expired request still marked PENDING is settled as EXPIRED by the next send, not superseded', async () => {
    const mobile = freshMobile();
    const old = await send(t, mobile, '1111');
    await t.sql(`UPDATE otp_requests SET expires_at = now() - interval '1 second' WHERE id = $1`, [old]);
    await send(t, mobile, '2222');
    expect(await t.sql('SELECT status, cancel_reason FROM otp_requests WHERE id = $1', [old])).toEqual([{ status: 'EXPIRED', cancel_reason: null }]);
  });

  test('the purpose is per sender and per source: other keys and other sources keep their own live OTP', async () => {
    const mobile = freshMobile();
    const { key: a } = await t.keyFor('USER');
    const { key: b } = await t.keyFor('USER');
    const fromA = await send(t, mobile, '1111', a);
    const fromB = await send(t, mobile, '2222', b);
    const otherSource = await restPost(t, '/api/send-otp', body(mobile, { otp_code: '3333', source: 'one_live_other' }), a);
    expect(otherSource.status).toBe(200);
    const rows = await t.sql(`SELECT id FROM otp_requests WHERE mobile = $1 AND status = 'PENDING' ORDER BY created_at`, [`+91${mobile}`]);
    expect(rows.map((r) => r.id)).toEqual([fromA, fromB, otherSource.body.data.otp_request_id]);
    expect((await restPost(t, '/api/verify-otp', { mobile_no: mobile, source: 'one_live', code: '1111' }, a)).status).toBe(200);
  });

  test('the database refuses a second live OTP for one purpose, whatever code path writes it', async () => {
    const mobile = freshMobile();
    const id = await send(t, mobile, '1111');
    await expect(t.sql(
      `INSERT INTO otp_requests (channels, mobile, source, type, code_length, code_type, code_hash, expires_at, max_attempts, max_resends,
         resend_cooldown_seconds, resend_mode, validity_seconds, user_id)
       SELECT channels, mobile, source, type, code_length, code_type, code_hash, expires_at, max_attempts, max_resends,
         resend_cooldown_seconds, resend_mode, validity_seconds, user_id FROM otp_requests WHERE id = $1`, [id],
    )).rejects.toThrow(/UQ_otp_requests_live_mobile/);
  });
});

describe('attacker: 50 parallel sends to one recipient and source', () => {
  test('NEW_CODE: every send is answered, exactly one stays PENDING and the others are SUPERSEDED', async () => {
    const mobile = freshMobile();
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => restPost(t, '/api/send-otp', body(mobile, { otp_code: String(1000 + i) }))));
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(200));
    const rows = await t.sql(`SELECT status, cancel_reason, count(*)::int AS n FROM otp_requests WHERE mobile = $1 GROUP BY 1, 2 ORDER BY 1`, [`+91${mobile}`]);
    expect(rows).toEqual([{ status: 'CANCELED', cancel_reason: 'SUPERSEDED', n: 49 }, { status: 'PENDING', cancel_reason: null, n: 1 }]);
  });

  test('GraphQL too, never a top-level error', async () => {
    const mobile = freshMobile();
    const answers = await Promise.all(Array.from({ length: 50 }, () => t.gql(SEND, { input: { mobileNo: mobile, channels: ['SMS'], source: 'one_live', type: 'simple_otp' } })));
    expect(answers.filter((a) => a.status !== 200 || a.body.errors || a.body.data.sendOtp.userErrors.length)).toEqual([]);
    expect(await t.sql(`SELECT count(*)::int AS n FROM otp_requests WHERE mobile = $1 AND status = 'PENDING'`, [`+91${mobile}`])).toEqual([{ n: 1 }]);
  });

  test('SAME_CODE_IF_VALID: one request, answered again or refused by its cooldown, never a 500', async () => {
    const mobile = freshMobile();
    const answers = await Promise.all(Array.from({ length: 50 }, () => restPost(same, '/api/send-otp', body(mobile, { otp_code: '4321' }))));
    expect(answers.every((a) => a.status === 200 || (a.status === 429 && a.body.data.reason === 'RATE_LIMITED'))).toBe(true);
    const ids = new Set(answers.filter((a) => a.status === 200).map((a) => a.body.data.otp_request_id));
    expect(ids.size).toBe(1);
    expect(await same.sql(`SELECT status, send_count FROM otp_requests WHERE mobile = $1`, [`+91${mobile}`])).toEqual([{ status: 'PENDING', send_count: 1 }]);
  });
});

describe('SAME_CODE_IF_VALID: the same send again returns the live OTP', () => {
  test('after the cooldown the same request is sent again with its code; a different send supersedes it', async () => {
    const mobile = freshMobile();
    const first = await send(same, mobile, '1234');
    const tooSoon = await restPost(same, '/api/send-otp', body(mobile, { otp_code: '1234' }));
    expect(tooSoon.status).toBe(429);
    expect(Number(tooSoon.headers.get('retry-after'))).toBeGreaterThan(0);

    await same.sql(`UPDATE otp_requests SET last_sent_at = now() - interval '1 minute' WHERE id = $1`, [first]);
    expect(await send(same, mobile, '1234')).toBe(first);
    expect(await same.sql('SELECT status, send_count FROM otp_requests WHERE id = $1', [first])).toEqual([{ status: 'PENDING', send_count: 2 }]);

    const generated = await restPost(same, '/api/send-otp', body(mobile)); // no code of its own: still the same send
    expect(generated.status).toBe(429);
    await same.sql(`UPDATE otp_requests SET last_sent_at = now() - interval '1 minute' WHERE id = $1`, [first]);
    const other = await send(same, mobile, '5678'); // a different code asked for: a new OTP
    expect(other).not.toBe(first);
    expect(await same.sql('SELECT status, cancel_reason FROM otp_requests WHERE id = $1', [first])).toEqual([{ status: 'CANCELED', cancel_reason: 'SUPERSEDED' }]);
    expect((await restPost(same, '/api/verify-otp', { mobile_no: mobile, source: 'one_live', code: '1234' })).status).toBe(400);
    expect((await restPost(same, '/api/verify-otp', { mobile_no: mobile, source: 'one_live', code: '5678' })).status).toBe(200);
  });
});

describe('attacker: parallel "Send OTP" clicks for one rule and record', () => {
  test('at most one live rule OTP per (rule, record), whatever the timing; every call answered', async () => {
    const ruleId = (await createOtpRule(t, {
      name: 'Parallel won', module: 'Deals', channels: ['EMAIL'], recipientField: null, maxResendAttempts: 20,
      conditions: [{ match: 'ALL', conditions: [{ field: 'stage', operator: 'HAS_CHANGED_TO', value: 'Closed Won' }] }],
    })).id;
    const recordId = (await createRecord(t, 'Deals', { name: 'Big one', stage: 'Proposal' })).id;
    const answers = await Promise.all(Array.from({ length: 10 }, () => t.gql(
      'mutation($r: Int!, $id: ID!) { sendRuleOtp(ruleId: $r, recordId: $id) { otpRequest { id } userErrors { code } } }', { r: ruleId, id: recordId })));
    expect(answers.filter((a) => a.status !== 200 || a.body.errors)).toEqual([]);
    expect(answers.some((a) => a.body.data.sendRuleOtp.otpRequest)).toBe(true);
    expect(await t.sql(`SELECT count(*)::int AS n FROM otp_requests WHERE rule_id = $1 AND record_id = $2 AND status = 'PENDING'`, [ruleId, recordId])).toEqual([{ n: 1 }]);
  });
});
