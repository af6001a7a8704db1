import { withStatementTexts } from '../../src/db/pipelined-sql';
import { StatementCounter } from '../support/statements';
import { startTestServer, type TestServer } from '../support/test-server';
import { freshMobile, restPost } from './otp-helpers';

/**
 * Counts the round trips to Postgres (calls of `pg.Client#query`, the one door through which TypeORM, pg-boss, the
 * rate limits and the raw pools reach the database) while the server answers one send or one verify. A multi-statement
 * message (the send's pipelined transaction) is one round trip. The test's own `t.sql` client is excluded; it is never
 * used while a request is being counted.
 *
 * Issue 15 asked for a send in at most 2 (all rate limits in one statement; the request, its deliveries and their
 * queue jobs in one pipelined transaction). A send to a mobile takes 1: one pipelined message starts with the fraud
 * guard's read of the number's prefix (its block, its sends and verifications in the window), a statement that fails
 * the message when the guard must look closer (the sender then asks the guard, which refuses or lets the send through,
 * before anything is written or taken); then the rate limits (in their own transaction, committed
 * without waiting for the disk, so the shared counter rows are locked for microseconds, not until the send's commit is
 * on disk; given back if the rest then fails), the request, its deliveries, their queue jobs and the guard's count of the
 * send. Statements are prepared once per connection and EXECUTEd after (see runPipelined); `withStatementTexts` shows
 * an EXECUTE with its SQL. The counts fail the test if they ever go back up.
 */
let t: TestServer;
const counter = new StatementCounter(() => t);

beforeAll(async () => {
  // no delivery worker polling the pool while round trips are counted; a fixed code for the verify cases
  t = await startTestServer('otp_statements', { OTP_WORKER: 'false', WEBHOOKS_WORKER: 'false', OTP_TEST_RECIPIENTS: '+919000000001:123456' }); // no delivery worker or webhook dispatcher polling the pool while statements are counted
  counter.install();
});
afterAll(async () => {
  counter.uninstall();
  await t.close();
});

const SEND = `mutation($input: SendOtpInput!) { sendOtp(input: $input) { otpRequest { id status } userErrors { code } } }`;
const VERIFY = `mutation($input: VerifyOtpInput!) { verifyOtp(input: $input) { verified userErrors { code } } }`;

const roundTrips = <T>(request: () => Promise<T>) => counter.count(request);

const gqlSend = (mobile: string, extra: Record<string, unknown> = {}) => t.gql(SEND, { input: { mobileNo: mobile, channels: ['SMS'], source: 'counted', type: 'simple_otp', ...extra } });

describe('send: one pipelined message (the fraud screen\'s read, the rate limits, then the send with the guard\'s count)', () => {
  test('GraphQL sendOtp to a new recipient', async () => {
    const mobile = freshMobile();
    const { statements, result } = await roundTrips(() => gqlSend(mobile));
    expect(result.body.data.sendOtp.userErrors).toEqual([]);
    expect(statements).toHaveLength(1);
    // the screen's read first (before anything is written or taken), the rate limits committed on their own, then the
    // request, its delivery, its queue job, its events and the guard's count, in one message
    expect(withStatementTexts(statements[0])).toMatch(/^BEGIN;\s*SET LOCAL synchronous_commit TO off;[\s\S]*FROM fraud_events[\s\S]*otp_rate_limits[\s\S]*COMMIT;[\s\S]*pg_advisory_xact_lock[\s\S]*INSERT INTO otp_requests[\s\S]*INSERT INTO otp_deliveries[\s\S]*pgboss\.job[\s\S]*INSERT INTO event_outbox[\s\S]*INSERT INTO fraud_events/);
    const id = result.body.data.sendOtp.otpRequest.id;
    expect(await t.sql('SELECT type, data->>\'status\' AS status FROM event_outbox WHERE subject = $1 ORDER BY id', [`otp_request:${id}`]))
      .toEqual([{ type: 'otp.sent', status: 'PENDING' }, { type: 'otp.delivery.updated', status: 'QUEUED' }]);
    expect(await t.sql(`SELECT kind FROM fraud_events WHERE otp_request_id = $1`, [id])).toEqual([{ kind: 'SENT' }]);
    const jobs = await t.sql(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'otp-delivery' AND data->>'deliveryId' IN (SELECT id::text FROM otp_deliveries WHERE otp_request_id = $1)`, [id]);
    expect(jobs).toEqual([{ n: 1 }]);
  });

  test('GraphQL sendOtp with a fallback workflow (WhatsApp, then SMS after 30 s): still 1, the scheduled step and its delayed job in the same message', async () => {
    const mobile = freshMobile();
    const { statements, result } = await roundTrips(() => t.gql(SEND, { input: {
      mobileNo: mobile, workflow: [{ channel: 'WHATSAPP' }, { channel: 'SMS', waitSeconds: 30 }], source: 'counted', type: 'simple_otp',
    } }));
    expect(result.body.data.sendOtp.userErrors).toEqual([]);
    expect(statements).toHaveLength(1);
    expect(withStatementTexts(statements[0])).toMatch(/otp_rate_limits[\s\S]*COMMIT;[\s\S]*INSERT INTO otp_deliveries[\s\S]*pgboss\.job[\s\S]*INSERT INTO event_outbox/);
    const id = result.body.data.sendOtp.otpRequest.id;
    expect(await t.sql(`SELECT d.channel, d.status, j.start_after - d.created_at AS after FROM otp_deliveries d
                          JOIN pgboss.job j ON j.data->>'deliveryId' = d.id::text WHERE d.otp_request_id = $1 ORDER BY d.workflow_step`, [id]))
      .toEqual([{ channel: 'WHATSAPP', status: 'QUEUED', after: expect.objectContaining({}) }, { channel: 'SMS', status: 'SCHEDULED', after: expect.objectContaining({ seconds: 30 }) }]);
  });

  test('GraphQL sendOtp on two channels, superseding a live OTP: still 1', async () => {
    const mobile = freshMobile();
    // (an email send names its template, which is looked up: one more round trip)
    const input = { mobileNo: mobile, channels: ['SMS', 'WHATSAPP'], source: 'counted', type: 'simple_otp' };
    const first = await t.gql(SEND, { input });
    expect(first.body.data.sendOtp.userErrors).toEqual([]);
    const firstId = first.body.data.sendOtp.otpRequest.id;
    const { statements, result } = await roundTrips(() => t.gql(SEND, { input }));
    expect(result.body.data.sendOtp.userErrors).toEqual([]);
    expect(statements).toHaveLength(1);
    const secondId = result.body.data.sendOtp.otpRequest.id;
    expect(await t.sql('SELECT status, cancel_reason FROM otp_requests WHERE id = $1', [firstId])).toEqual([{ status: 'CANCELED', cancel_reason: 'SUPERSEDED' }]);
    expect(await t.sql('SELECT type, data->>\'reason\' AS reason FROM event_outbox WHERE subject = $1 ORDER BY id', [`otp_request:${firstId}`]))
      .toEqual([{ type: 'otp.sent', reason: null }, { type: 'otp.delivery.updated', reason: null }, { type: 'otp.delivery.updated', reason: null }, { type: 'otp.canceled', reason: 'SUPERSEDED' }]);
    const jobs = await t.sql(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'otp-delivery' AND data->>'deliveryId' IN (SELECT id::text FROM otp_deliveries WHERE otp_request_id = $1)`, [secondId]);
    expect(jobs).toEqual([{ n: 2 }]);
  });

  test('REST POST /api/send-otp', async () => {
    const { statements, result } = await roundTrips(() => restPost(t, '/api/send-otp', { mobile_no: freshMobile(), channel: 'sms', source: 'counted', type: 'simple_otp' }));
    expect(result.status).toBe(200);
    expect(statements).toHaveLength(1);
  });

  test('a send refused by a limit: the refused message, then one message to end it and say which limit; nothing written, not counted', async () => {
    const mobile = freshMobile();
    await t.sql(`INSERT INTO otp_rate_limits (key, points, expire) VALUES ($1, 1000000, $2)`, [`otp_send_day:+91${mobile}`, Date.now() + 3_600_000]);
    const [{ n: eventsBefore }] = await t.sql('SELECT count(*)::int AS n FROM event_outbox');
    const { statements, result } = await roundTrips(() => restPost(t, '/api/send-otp', { mobile_no: mobile, channel: 'sms', source: 'counted', type: 'simple_otp' }));
    expect(result.status).toBe(429);
    expect(result.body.message).toMatch(/to this recipient today/);
    expect(statements).toHaveLength(2);
    expect(await t.sql('SELECT count(*)::int AS n FROM otp_requests WHERE mobile = $1', [`+91${mobile}`])).toEqual([{ n: 0 }]);
    expect(await t.sql('SELECT count(*)::int AS n FROM event_outbox')).toEqual([{ n: eventsBefore }]); // its events were in the refused message too
    // the guard's count was in the refused message: rolled back with it
    expect(await t.sql(`SELECT count(*)::int AS n FROM fraud_events WHERE kind = 'SENT' AND prefix = $1`, [`+91${mobile.slice(0, 6)}`])).toEqual([{ n: 0 }]);
    expect(await t.sql(`SELECT count(*)::int AS n FROM otp_rate_limits WHERE key = $1`, [`otp_send_15m:+91${mobile}`])).toEqual([{ n: 0 }]);
  });

  test('attacker: a send to a blocked prefix — the screen\'s statement stops the message before any limit or write, the guard looks closer and refuses', async () => {
    const mobile = freshMobile();
    const prefix = `+91${mobile.slice(0, 6)}`;
    await t.sql(`INSERT INTO fraud_prefix_blocks (prefix, country, level, reason, sends, verified, expires_at) VALUES ($1, 'IN', 1, 'test block', 20, 0, now() + interval '1 hour')`, [prefix]);
    const [{ n: eventsBefore }] = await t.sql('SELECT count(*)::int AS n FROM event_outbox');
    const { statements, result } = await roundTrips(() => restPost(t, '/api/send-otp', { mobile_no: mobile, channel: 'sms', source: 'counted', type: 'simple_otp' }));
    expect(result.status).toBe(429);
    expect(result.body.data.reason).toBe('FRAUD_SUSPECTED');
    // the stopped message, its clean-up, the guard's own read, its log of the refused send
    expect(statements).toHaveLength(4);
    expect(withStatementTexts(statements[0])).toMatch(/FROM fraud_prefix_blocks[\s\S]*otp_rate_limits/);
    expect(await t.sql('SELECT count(*)::int AS n FROM otp_requests WHERE mobile = $1', [`+91${mobile}`])).toEqual([{ n: 0 }]);
    expect(await t.sql('SELECT count(*)::int AS n FROM event_outbox')).toEqual([{ n: eventsBefore }]);
    expect(await t.sql(`SELECT count(*)::int AS n FROM otp_rate_limits WHERE key LIKE $1`, [`%+91${mobile}`])).toEqual([{ n: 0 }]); // no limit point taken
    expect(await t.sql(`SELECT kind, reason FROM fraud_events WHERE prefix = $1`, [prefix])).toEqual([{ kind: 'BLOCKED', reason: 'PREFIX_BLOCKED' }]);
  });
});

describe('verify: right code in 2 round trips, wrong code in 3', () => {
  async function sent(): Promise<string> {
    const res = await restPost(t, '/api/send-otp', { mobile_no: '9000000001', channel: 'sms', source: `counted_${freshMobile()}`, type: 'simple_otp' });
    expect(res.status).toBe(200);
    return res.body.data.otp_request_id;
  }

  test('GraphQL verifyOtp, right code', async () => {
    const id = await sent();
    const { statements, result } = await roundTrips(() => t.gql(VERIFY, { input: { otpRequestId: id, code: '123456' } }));
    expect(result.body.data.verifyOtp).toEqual({ verified: true, userErrors: [] });
    expect(statements).toHaveLength(2);
    expect(withStatementTexts(statements[1])).toMatch(/UPDATE otp_requests[\s\S]*INSERT INTO event_outbox/); // consumed with its otp.verified, in one statement
    expect(await t.sql('SELECT type FROM event_outbox WHERE subject = $1 ORDER BY id', [`otp_request:${id}`])).toEqual([{ type: 'otp.sent' }, { type: 'otp.verified' }]);
  });

  test('REST verify-otp, right code', async () => {
    const id = await sent();
    const { statements, result } = await roundTrips(() => restPost(t, '/api/verify-otp', { otp_request_id: id, code: '123456' }));
    expect(result.status).toBe(200);
    expect(statements).toHaveLength(2);
  });

  test('GraphQL verifyOtp, wrong code', async () => {
    const id = await sent();
    const { statements, result } = await roundTrips(() => t.gql(VERIFY, { input: { otpRequestId: id, code: '654321' } }));
    expect(result.body.data.verifyOtp).toEqual({ verified: false, userErrors: [{ code: 'OTP_INVALID' }] });
    expect(statements).toHaveLength(3);
    expect(withStatementTexts(statements[2])).toMatch(/UPDATE otp_requests[\s\S]*INSERT INTO event_outbox/); // counted with its otp.failed_attempt, in one statement
  });

  test('REST verify-otp, wrong code', async () => {
    const id = await sent();
    const { statements, result } = await roundTrips(() => restPost(t, '/api/verify-otp', { otp_request_id: id, code: '654321' }));
    expect(result.status).toBe(400);
    expect(statements).toHaveLength(3);
  });

  test('a screened number (not a test recipient), right code: still 2, the fraud guard\'s count of the verification in the verifying statement', async () => {
    const mobile = freshMobile();
    const sentRes = await gqlSend(mobile, { otpCode: '482913' });
    expect(sentRes.body.data.sendOtp.userErrors).toEqual([]);
    const id = sentRes.body.data.sendOtp.otpRequest.id;
    const { statements, result } = await roundTrips(() => t.gql(VERIFY, { input: { otpRequestId: id, code: '482913' } }));
    expect(result.body.data.verifyOtp).toEqual({ verified: true, userErrors: [] });
    expect(statements).toHaveLength(2);
    expect(withStatementTexts(statements[1])).toMatch(/UPDATE otp_requests[\s\S]*INSERT INTO fraud_events[\s\S]*FROM verified[\s\S]*INSERT INTO event_outbox/);
    expect(await t.sql(`SELECT kind FROM fraud_events WHERE otp_request_id = $1 ORDER BY created_at, kind DESC`, [id])).toEqual([{ kind: 'SENT' }, { kind: 'VERIFIED' }]);
  });

  test('attacker: the same right code twice, and a wrong code — the guard counts one verification, never one that did not happen', async () => {
    const mobile = freshMobile();
    const sentRes = await gqlSend(mobile, { otpCode: '482914' });
    const id = sentRes.body.data.sendOtp.otpRequest.id;
    expect((await t.gql(VERIFY, { input: { otpRequestId: id, code: '111111' } })).body.data.verifyOtp.verified).toBe(false);
    expect((await t.gql(VERIFY, { input: { otpRequestId: id, code: '482914' } })).body.data.verifyOtp.verified).toBe(true);
    expect((await t.gql(VERIFY, { input: { otpRequestId: id, code: '482914' } })).body.data.verifyOtp.verified).toBe(false);
    expect(await t.sql(`SELECT kind FROM fraud_events WHERE otp_request_id = $1 ORDER BY created_at, kind DESC`, [id])).toEqual([{ kind: 'SENT' }, { kind: 'VERIFIED' }]);
  });
});
