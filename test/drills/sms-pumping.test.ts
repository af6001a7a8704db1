import { startTestServer, type TestServer } from '../support/test-server';
import { ADMIN_LISTS, gqlData, inPrefix, sendTo, verify } from '../fraud/fraud-helpers';

/**
 * SMS pumping drill (issue 11): bots request codes for numbers of one prefix and never verify, in parallel, while real
 * users in other prefixes sign up and verify. With the default thresholds (≥ 20 sends, < 20 % verified, 1 h window) the
 * bot prefix must be blocked, the users must never be refused, and the admin's summary must show it all.
 */
const FULL = process.env.DRILLS === 'full';
const BOT_SENDS = FULL ? 400 : 40;
const BOT_PARALLEL = FULL ? 8 : 1;
const USERS = FULL ? 100 : 10;
const BOT_PREFIX = '+91987670';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer('sms_pumping', { OTP_WORKER: 'false', OTP_SEND_LIMIT_PER_KEY_MINUTE: '100000' });
});
afterAll(() => t.close());

test(`a bot sends ${BOT_SENDS} codes to one prefix (${BOT_PARALLEL} at a time) and verifies none; ${USERS} real users in other prefixes still get theirs`, async () => {
  const started = Date.now();
  const from = new Date(started - 1000).toISOString();
  const botStatuses: number[] = [];
  let next = 0;
  const bot = async () => {
    while (next < BOT_SENDS) {
      next += 1;
      botStatuses.push((await sendTo(t, inPrefix(BOT_PREFIX), { source: 'signup' })).status);
    }
  };
  const userStatuses: number[] = [];
  const users = async () => {
    for (let i = 0; i < USERS; i += 1) {
      const sent = await sendTo(t, inPrefix(`+9198768${i % 10}`), { source: 'signup', otp_code: '8642' });
      userStatuses.push(sent.status);
      if (sent.status === 200) userStatuses.push((await verify(t, sent.body.data.otp_request_id, '8642')).status);
    }
  };
  await Promise.all([...Array.from({ length: BOT_PARALLEL }, bot), users()]);
  const seconds = (Date.now() - started) / 1000;

  const accepted = botStatuses.filter((s) => s === 200).length;
  const refused = botStatuses.filter((s) => s === 429).length;
  expect(accepted + refused).toBe(BOT_SENDS);
  expect(accepted).toBeGreaterThanOrEqual(20);
  expect(accepted).toBeLessThanOrEqual(20 + BOT_PARALLEL - 1); // at most the sends already in flight when the block was made
  expect(userStatuses.every((s) => s === 200)).toBe(true);
  const blocks = (await gqlData(t, ADMIN_LISTS.prefixBlocks)).prefixBlocks.nodes;
  expect(blocks.map((b: any) => [b.prefix, b.level])).toEqual([[BOT_PREFIX, 1]]);
  const summary = (await gqlData(t, ADMIN_LISTS.summary, { from, first: 10 })).conversionSummary.nodes;
  expect(summary).toEqual([expect.objectContaining({ country: 'IN', channel: 'SMS', source: 'signup', sends: accepted + USERS, verified: USERS, blocked: refused })]);
  const [{ requests }] = await t.sql('SELECT count(*)::int AS requests FROM otp_requests WHERE mobile LIKE $1', [`${BOT_PREFIX}%`]);
  expect(requests).toBe(accepted);
  // eslint-disable-next-line no-console
  console.log(JSON.stringify({ drill: 'sms-pumping', botSends: BOT_SENDS, parallel: BOT_PARALLEL, accepted, refused, users: USERS,
    usersRefused: userStatuses.filter((s) => s !== 200).length, conversion: summary[0].conversionRate, seconds }));
}, 120_000);
