import { startTestServer, type TestServer } from '../support/test-server';
import { freshMobile, restPost } from '../otp/otp-helpers';

/**
 * Brute force through GraphQL: aliases, batched arrays and a guess rate above the per-recipient failure limit.
 * (test/otp/otp-graphql.test.ts covers 15 vs 16 aliases with the default limits; this drill pushes further.)
 */
const FAILURE_LIMIT = 20;
const GUESSES = process.env.DRILLS === 'full' ? 400 : 60;
let t: TestServer;
beforeAll(async () => {
  t = await startTestServer('brute_force', {
    OTP_MAX_ATTEMPTS: '100', OTP_VERIFY_FAILURE_LIMIT_PER_RECIPIENT_DAY: String(FAILURE_LIMIT),
    OTP_SEND_LIMIT_PER_RECIPIENT_15MIN: '100', OTP_SEND_LIMIT_PER_RECIPIENT_DAY: '100',
  });
});
afterAll(() => t.close());

async function send(mobile: string, code: string, source = 'brute'): Promise<string> {
  const res = await restPost(t, '/api/send-otp', { mobile_no: mobile, channel: 'sms', source, type: 'simple_otp', otp_code: code });
  expect(res.status).toBe(200);
  return res.body.data.otp_request_id;
}
const aliases = (n: number, from = 0) => Array.from({ length: n }, (_, i) =>
  `g${i}: verifyOtp(input: { otpRequestId: $id, code: "${String(100000 + from + i)}" }) { verified attemptsLeft userErrors { code } }`).join('\n');
const attempts = async (id: string) => (await t.sql('SELECT attempts, status FROM otp_requests WHERE id = $1', [id]))[0];

test('100 aliased verifyOtp fields in one document are refused before any is counted', async () => {
  const id = await send(freshMobile(), '987654');
  const res = await t.gql(`mutation($id: ID!) {\n${aliases(100)}\n}`, { id });
  expect(res.status).toBe(200); // refused before running; application/json answers that with 200 (GraphQL over HTTP)
  expect(res.body.data).toBeUndefined();
  expect(res.body.errors[0].message).toMatch(/alias/i);
  expect(await attempts(id)).toEqual({ attempts: 0, status: 'PENDING' });
});

test('up to the alias limit, each aliased wrong guess counts as one attempt', async () => {
  const id = await send(freshMobile(), '987654');
  const res = await t.gql(`mutation($id: ID!) {\n${aliases(15)}\n}`, { id });
  expect(res.body.errors).toBeUndefined();
  const answers = Object.values(res.body.data) as Array<{ verified: boolean; attemptsLeft: number }>;
  expect(answers.every((a) => !a.verified)).toBe(true);
  expect(answers.map((a) => a.attemptsLeft).sort((a, b) => a - b)).toEqual(Array.from({ length: 15 }, (_, i) => 85 + i));
  expect(await attempts(id)).toEqual({ attempts: 15, status: 'PENDING' });
});

test('a batched HTTP array of verifyOtp operations is refused and counts nothing', async () => {
  const id = await send(freshMobile(), '987654');
  const op = { query: 'mutation($id: ID!, $code: String!) { verifyOtp(input: { otpRequestId: $id, code: $code }) { verified } }' };
  const batch = Array.from({ length: 10 }, (_, i) => ({ ...op, variables: { id, code: String(200000 + i) } }));
  const res = await fetch(t.app.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${t.adminKey}` }, body: JSON.stringify(batch) });
  expect(res.status).toBe(400);
  const body = await res.json() as any;
  expect(body.errors[0].message).toMatch(/batch|array/i);
  expect(await attempts(id)).toEqual({ attempts: 0, status: 'PENDING' });
});

test(`${GUESSES} parallel guesses against one recipient: only ${FAILURE_LIMIT} are counted, the rest (and then the right code) get RATE_LIMITED`, async () => {
  const mobile = freshMobile();
  // two live requests for one recipient (two sources: one source keeps only the newest live)
  const ids = [await send(mobile, '987654'), await send(mobile, '456789', 'brute_other')];
  const documents = Array.from({ length: GUESSES / 10 }, (_, n) => t.gql(`mutation($id: ID!) {\n${aliases(10, n * 10)}\n}`, { id: ids[n % 2] }));
  const answers = (await Promise.all(documents)).flatMap((res) => {
    expect(res.body.errors).toBeUndefined();
    return Object.values(res.body.data) as Array<{ verified: boolean; userErrors: Array<{ code: string }> }>;
  });
  const codes = answers.map((a) => a.userErrors[0]?.code);
  expect(answers.some((a) => a.verified)).toBe(false);
  expect(codes.filter((c) => c === 'OTP_INVALID')).toHaveLength(FAILURE_LIMIT);
  expect(codes.filter((c) => c === 'RATE_LIMITED')).toHaveLength(GUESSES - FAILURE_LIMIT);
  const counted = (await attempts(ids[0])).attempts + (await attempts(ids[1])).attempts;
  expect(counted).toBe(FAILURE_LIMIT);

  const right = await restPost(t, '/api/verify-otp', { otp_request_id: ids[0], code: '987654' });
  expect(right.status).toBe(429);
  expect(right.body.data.reason).toBe('RATE_LIMITED');
  expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(0);
  console.log(`brute-force drill: ${GUESSES} parallel guesses, ${codes.filter((c) => c === 'OTP_INVALID').length} counted, ${codes.filter((c) => c === 'RATE_LIMITED').length} RATE_LIMITED`);
});
