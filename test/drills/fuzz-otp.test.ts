import fc from 'fast-check';
import { createRecord } from '../support/api';
import { nonConformance } from '../support/openapi-conformance';
import { startTestServer, type TestServer } from '../support/test-server';
import { SYSTEM } from '../connections/helpers';

/**
 * Fuzzing of the OTP doors (REST `send-otp`/`verify-otp`/`resend-otp`/`cancel-otp`, each answer checked against
 * openapi.json; GraphQL `sendOtp`/`verifyOtp`) and `createConnection`:
 * every answer is well-formed, and a refused request leaves the tables exactly as they were.
 * `npm run drills:ci` runs a sample; `npm run drills` sets FUZZ_RUNS=10000 (for each of the two properties).
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const TIMEOUT_MS = Math.max(60_000, RUNS * 30); // a generous bound: about 6 ms a run on 2 cores
const TEST_MOBILE = '9876543210';
const TEST_EMAIL = 'qa@example.com';

let t: TestServer;
let contactId: string;
let organizationId: string;
beforeAll(async () => {
  t = await startTestServer('fuzz_otp', {
    // the fuzzer is after bad input, not the abuse limits: raise them (RATE_LIMITED still counts as well-formed)
    OTP_SEND_LIMIT_PER_RECIPIENT_15MIN: '1000000', OTP_SEND_LIMIT_PER_RECIPIENT_DAY: '1000000', OTP_SEND_LIMIT_PER_KEY_MINUTE: '1000000',
    OTP_VERIFY_FAILURE_LIMIT_PER_RECIPIENT_DAY: '1000000', OTP_RESEND_COOLDOWN_SECONDS: '0',
    OTP_TEST_RECIPIENTS: `+91${TEST_MOBILE}:123456,${TEST_EMAIL}:654321`,
  });
  const create = async (module: string, fields: Record<string, unknown>) => (await createRecord(t, module, fields)).id;
  contactId = await create('Contacts', { lastName: 'Fuzz' });
  organizationId = await create('Organizations', { name: 'Fuzz Ltd' });
}, 60_000);
afterAll(() => t.close());

const nastyString = fc.oneof(
  fc.string(), fc.fullUnicodeString(), fc.constantFrom('', ' ', '\u0000', '\ud800', '<script>', "'; DROP TABLE otp_requests; --", '%_\\', 'NaN', '1e309', '{{otp}}', '{{#each this}}x{{/each}}'),
  fc.string({ minLength: 300, maxLength: 3000 }),
);
const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' },
    nastyString, fc.integer(), fc.double(), fc.boolean(), fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(nastyString, fc.constantFrom('name', 'otp', 'role', '__proto__', 'constructor')), tie('value'), { maxKeys: 5 })),
})).value;
/** Deep nesting beyond any sensible depth. */
const deep = fc.integer({ min: 20, max: 200 }).map((depth) => { let v: unknown = 'x'; for (let i = 0; i < depth; i += 1) v = { a: v }; return v; });
const anything = fc.oneof(jsonValue, deep);
/** A value that is sometimes right, often wrong: the generator must reach the service, not only the validator. */
const sometimes = <T>(good: fc.Arbitrary<T>) => fc.oneof({ weight: 3, arbitrary: good }, { weight: 1, arbitrary: anything });
const mobile = sometimes(fc.oneof(fc.stringMatching(/^[6-9]\d{9}$/), fc.constant(TEST_MOBILE), fc.stringMatching(/^\d{1,14}$/)));
const email = sometimes(fc.oneof(fc.emailAddress(), fc.constant(TEST_EMAIL)));
const code = sometimes(fc.oneof(fc.constantFrom('123456', '654321'), fc.stringMatching(/^[A-Za-z0-9]{1,12}$/)));
const unknownFields = fc.dictionary(fc.string({ maxLength: 20 }), anything, { maxKeys: 3 });
/**
 * Half the time any subset of the fields with any values; half the time a valid body with at most two fields
 * replaced by anything (or removed), so the generator gets past the validator into the service too.
 */
const partial = <T extends Record<string, fc.Arbitrary<unknown>>>(fields: T, valid: fc.Arbitrary<Record<string, unknown>>) => fc.oneof(
  fc.tuple(fc.record(fields, { requiredKeys: [] }), unknownFields).map(([known, extra]) => ({ ...extra, ...known })),
  fc.tuple(valid, fc.dictionary(fc.constantFrom(...Object.keys(fields)), fc.oneof(anything, fc.constant(undefined)), { maxKeys: 2 }))
    .map(([base, changes]) => ({ ...base, ...changes })),
);
const digits10 = fc.stringMatching(/^[6-9]\d{9}$/);

const restSend = partial({
  mobile_no: mobile, country_code: sometimes(fc.constantFrom('91', '+91', '1', '44', '999', '')), email,
  channel: sometimes(fc.constantFrom('sms', 'whatsapp', 'email', 'sms|whatsapp|email', 'all', 'SMS', 'fax')),
  source: sometimes(fc.constantFrom('fuzz', 'impactx')), type: sometimes(fc.constant('simple_otp')),
  otp_code_length: sometimes(fc.integer({ min: 0, max: 12 })), otp_code_type: sometimes(fc.constantFrom('NUMERIC', 'ALPHABETIC', 'ALPHANUMERIC', 'numeric')),
  otp_code: sometimes(fc.stringMatching(/^[A-Za-z0-9]{2,12}$/)), email_template_id: sometimes(fc.constantFrom('otp_email', 'missing')),
  email_subject: nastyString, email_from_name: nastyString, email_template_attributes: anything,
}, fc.record({ mobile_no: fc.oneof(digits10, fc.constant(TEST_MOBILE)), email: fc.oneof(fc.emailAddress(), fc.constant(TEST_EMAIL)), channel: fc.constantFrom('sms', 'whatsapp', 'email', 'all'),
  source: fc.constant('fuzz'), type: fc.constant('simple_otp'), email_from_name: fc.constant('Fuzz'), email_subject: fc.string({ minLength: 1, maxLength: 50 }),
  email_template_id: fc.constant('otp_email'), email_template_attributes: fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 50 }), { maxKeys: 3 }) }));
const restVerify = partial({ otp_request_id: sometimes(fc.uuid()), mobile_no: mobile, email, country_code: sometimes(fc.constant('91')), source: sometimes(fc.constant('fuzz')), code },
  fc.record({ mobile_no: fc.oneof(digits10, fc.constant(TEST_MOBILE)), source: fc.constant('fuzz'), code: fc.constantFrom('123456', '000000', 'ABCDEF') }));
/** Ids of requests earlier runs sent, so resend and cancel reach real OTPs too (read when a value is generated). */
const sentIds: string[] = [];
const requestId = sometimes(fc.oneof(fc.uuid(), fc.nat().map((i) => sentIds[i % Math.max(1, sentIds.length)] ?? '00000000-0000-4000-8000-000000000000')));
const restResend = partial({ otp_request_id: requestId, channel: sometimes(fc.constantFrom('sms', 'whatsapp', 'email', 'all', 'sms|email', 'fax')) },
  fc.record({ otp_request_id: requestId }));
const restCancel = partial({ otp_request_id: requestId }, fc.record({ otp_request_id: requestId }));
const REST_BODIES = { '/api/send-otp': restSend, '/api/verify-otp': restVerify, '/api/resend-otp': restResend, '/api/cancel-otp': restCancel } as const;
const REST_PATHS = Object.keys(REST_BODIES) as Array<keyof typeof REST_BODIES>;
const restBody = fc.oneof(
  { weight: 8, arbitrary: fc.record({ path: fc.constantFrom(...REST_PATHS) }).chain(({ path }) => REST_BODIES[path].map((body) => ({ path, raw: JSON.stringify(body) }))) },
  { weight: 1, arbitrary: fc.record({ path: fc.constantFrom(...REST_PATHS), raw: fc.oneof(nastyString, anything.map((v) => JSON.stringify(v) ?? 'null')) }) },
);

const SEND = 'mutation($input: SendOtpInput!) { sendOtp(input: $input) { otpRequest { id status } userErrors { field message code } } }';
const VERIFY = 'mutation($input: VerifyOtpInput!) { verifyOtp(input: $input) { verified attemptsLeft userErrors { field message code } } }';
const CREATE_CONNECTION = 'mutation($input: CreateConnectionInput!) { createConnection(input: $input) { connection { id } userErrors { field message code } } }';
const gqlSend = partial({
  mobileNo: mobile, countryCode: sometimes(fc.constantFrom('91', '+91', '1')), email,
  channels: sometimes(fc.array(fc.constantFrom('SMS', 'WHATSAPP', 'EMAIL', 'FAX'), { maxLength: 4 })),
  source: sometimes(fc.constant('fuzz')), type: sometimes(fc.constant('simple_otp')), otpCodeLength: sometimes(fc.integer({ min: 0, max: 12 })),
  otpCodeType: sometimes(fc.constantFrom('NUMERIC', 'ALPHABETIC', 'ALPHANUMERIC')), otpCode: sometimes(fc.stringMatching(/^[A-Za-z0-9]{2,12}$/)),
  emailTemplateId: sometimes(fc.constant('otp_email')), emailTemplateAttributes: anything, emailSubject: nastyString, ruleId: sometimes(fc.integer()),
  recordId: sometimes(fc.oneof(fc.uuid(), fc.constant('contact'))),
}, fc.record({ mobileNo: fc.oneof(digits10, fc.constant(TEST_MOBILE)), email: fc.oneof(fc.emailAddress(), fc.constant(TEST_EMAIL)), channels: fc.subarray(['SMS', 'WHATSAPP', 'EMAIL'], { minLength: 1 }),
  source: fc.constant('fuzz'), type: fc.constant('simple_otp'), emailFromName: fc.constant('Fuzz'), emailSubject: fc.constant('Your code'), emailTemplateId: fc.constant('otp_email'),
  recordId: fc.constantFrom('contact', null) }));
const gqlVerify = partial({ otpRequestId: sometimes(fc.uuid()), mobileNo: mobile, email, countryCode: sometimes(fc.constant('91')), source: sometimes(fc.constant('fuzz')), code },
  fc.record({ mobileNo: fc.oneof(digits10, fc.constant(TEST_MOBILE)), source: fc.constant('fuzz'), code: fc.constantFrom('123456', '000000') }));
const recordRef = sometimes(fc.constantFrom('contact', 'organization'));
const withRecords = (input: Record<string, unknown>) => {
  const ref = (v: unknown) => (v === 'contact' ? contactId : v === 'organization' ? organizationId : v);
  return { ...input, sourceId: ref(input.sourceId), targetId: ref(input.targetId) };
};
const gqlConnection = partial({
  typeId: sometimes(fc.constantFrom(...Object.values(SYSTEM))), sourceId: recordRef, targetId: recordRef,
  startDate: sometimes(fc.constantFrom('2024-01-01', '2030-12-31', '2024-02-30', '')), endDate: sometimes(fc.constantFrom('2023-01-01', '2031-01-01')),
  properties: anything, notes: nastyString,
}, fc.record({ typeId: fc.constantFrom(SYSTEM.worksAt, SYSTEM.knows, SYSTEM.boardMemberOf), sourceId: fc.constant('contact'), targetId: fc.constantFrom('organization', 'contact'),
  notes: fc.string({ maxLength: 40 }) }));
const withRecord = (input: Record<string, unknown>) => (input.recordId === 'contact' ? { ...input, recordId: contactId } : input);
const gqlBody = fc.oneof(
  gqlSend.map((input) => ({ kind: 'send', body: { query: SEND, variables: { input: withRecord(input) } } })),
  gqlVerify.map((input) => ({ kind: 'verify', body: { query: VERIFY, variables: { input } } })),
  gqlConnection.map((input) => ({ kind: 'connection', body: { query: CREATE_CONNECTION, variables: { input: withRecords(input) } } })),
  // literal documents: unknown fields, wrong types and nesting inside the document itself
  fc.tuple(fc.constantFrom('sendOtp', 'verifyOtp', 'createConnection'), anything).map(([field, input]) => ({
    kind: 'literal', body: { query: `mutation { ${field}(input: ${toGraphQLLiteral(input)}) { userErrors { code } } }` },
  })),
);

/** Renders any JSON value as a GraphQL input literal (most will be the wrong shape, which is the point). */
function toGraphQLLiteral(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `[${value.map(toGraphQLLiteral).join(', ')}]`;
  if (typeof value === 'object') return `{ ${Object.entries(value as object).map(([k, v]) => `${/^[_A-Za-z][_0-9A-Za-z]*$/.test(k) ? k : 'bad_name'}: ${toGraphQLLiteral(v)}`).join(', ')} }`;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '0';
  return JSON.stringify(value);
}

const STACK = /\bat .+\.(js|ts):\d+|node_modules|stacktrace/i;
const counts = async () => (await t.sql(`SELECT (SELECT count(*) FROM otp_requests)::int AS requests, (SELECT count(*) FROM otp_deliveries)::int AS deliveries,
  (SELECT count(*) FROM connections)::int AS connections`))[0] as { requests: number; deliveries: number; connections: number };

async function post(path: string, raw: string) {
  const res = await fetch(`${t.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${t.adminKey}` }, body: raw });
  const text = await res.text();
  expect(text).not.toMatch(STACK);
  return { status: res.status, text, json: JSON.parse(text) };
}

test(`${RUNS} generated REST bodies for send-otp, verify-otp, resend-otp and cancel-otp: well-formed answers, no 500, refused requests write nothing`, async () => {
  const seen: Record<string, number> = {};
  const startedAt = Date.now();
  await fc.assert(fc.asyncProperty(restBody, async ({ path, raw }) => {
    const before = await counts();
    const res = await post(path, raw);
    const tally = `${path.slice(5)} ${res.status}`;
    seen[tally] = (seen[tally] ?? 0) + 1;
    expect([200, 400, 413, 422, 429, ...(/resend|cancel/.test(path) ? [404] : [])]).toContain(res.status);
    expect(typeof res.json.status).toBe('boolean');
    expect(typeof res.json.message).toBe('string');
    expect(res.json.status).toBe(res.status === 200);
    if (res.status === 429) expect(res.json.data.reason).toBe('RATE_LIMITED');
    expect(nonConformance('POST', path, res.status, res.json)).toBeNull(); // every answer is one openapi.json documents
    const after = await counts();
    const sent = path === '/api/send-otp' && res.status === 200;
    if (sent) sentIds.push(res.json.data.otp_request_id);
    expect(after.requests).toBe(before.requests + (sent ? 1 : 0));
    if (!sent && !(path === '/api/resend-otp' && res.status === 200)) expect(after.deliveries).toBe(before.deliveries);
  }), { numRuns: RUNS });
  console.log(`REST fuzz: ${RUNS} bodies in ${((Date.now() - startedAt) / 1000).toFixed(1)} s, statuses ${JSON.stringify(seen)}`);
  await expectStoredRowsValid();
}, TIMEOUT_MS);

test(`${RUNS} generated GraphQL documents for sendOtp, verifyOtp and createConnection: well-formed answers, refused ones write nothing`, async () => {
  const seen: Record<string, number> = {};
  const startedAt = Date.now();
  await fc.assert(fc.asyncProperty(gqlBody, async ({ kind, body }) => {
    const before = await counts();
    const res = await post('/graphql', JSON.stringify(body));
    expect([200, 400, 413]).toContain(res.status);
    for (const error of res.json.errors ?? []) {
      expect(typeof error.message).toBe('string');
      expect(error.extensions?.code).not.toBe('INTERNAL_SERVER_ERROR');
    }
    const payload = res.json.data?.sendOtp ?? res.json.data?.verifyOtp ?? res.json.data?.createConnection;
    const ok = !!payload && payload.userErrors.length === 0 && !res.json.errors;
    const outcome = `${kind}:${ok ? 'ok' : payload ? payload.userErrors[0]?.code ?? 'refused' : 'error'}`;
    seen[outcome] = (seen[outcome] ?? 0) + 1;
    for (const e of payload?.userErrors ?? []) expect(typeof e.message).toBe('string');
    const after = await counts();
    expect(after.requests).toBe(before.requests + (ok && kind === 'send' ? 1 : 0));
    expect(after.connections).toBe(before.connections + (ok && kind === 'connection' ? 1 : 0));
    if (!(ok && kind === 'send')) expect(after.deliveries).toBe(before.deliveries);
  }), { numRuns: RUNS });
  console.log(`GraphQL fuzz: ${RUNS} documents in ${((Date.now() - startedAt) / 1000).toFixed(1)} s, outcomes ${JSON.stringify(seen)}`);
  await expectStoredRowsValid();
}, TIMEOUT_MS);

/** Whatever was accepted is valid: each OTP request has a recipient, channels, a code hash and a sane expiry; each connection joins existing records. */
async function expectStoredRowsValid() {
  const requests = await t.sql(`SELECT * FROM otp_requests`);
  for (const r of requests) {
    expect(r.mobile ?? r.email).toBeTruthy();
    if (r.mobile) expect(r.mobile).toMatch(/^\+\d{8,15}$/);
    if (r.email) expect(r.email).toMatch(/^[^@\s]+@[^@\s]+$/);
    expect(r.channels.length).toBeGreaterThan(0);
    expect(r.code_length).toBeGreaterThanOrEqual(4);
    expect(r.code_length).toBeLessThanOrEqual(10);
    expect(r.expires_at.getTime()).toBeGreaterThan(r.created_at.getTime());
  }
  const orphans = await t.sql(`SELECT c.id FROM connections c LEFT JOIN records s ON s.id = c.source_id LEFT JOIN records g ON g.id = c.target_id
    LEFT JOIN connection_types ty ON ty.id = c.type_id WHERE s.id IS NULL OR g.id IS NULL OR ty.id IS NULL`);
  expect(orphans).toEqual([]);
}
