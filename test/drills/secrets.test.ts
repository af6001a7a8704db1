import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { Client } from 'pg';
import { loadConfig } from '../../src/core/config';
import { startApp, type RunningApp } from '../../src/app/server';
import { createTestDatabase } from '../support/test-database';
import { FakeHttpProvider, FakeSmtpServer } from '../otp/fake-providers';
import { freshMobile } from '../otp/otp-helpers';

/**
 * Secrets drill: a realistic run (API key created, OTPs sent on every channel through real-protocol fakes and through
 * the `log` providers, resent, verified, guessed wrong, a test recipient, a pending caller-supplied code) with the JSON
 * logs captured at `trace`; then no OTP code and no API key appears in clear in any log line (except the `log`
 * providers' own message lines) or in any column of any table, pg-boss's schema included.
 */
const TEST_MOBILE = '9812345670';
const TEST_CODE = 'T35TC0DE7Q';
const twilio = new FakeHttpProvider((n) => ({ sid: `SM${String(n).padStart(32, '0')}` }));
const whatsapp = new FakeHttpProvider((n) => ({ messages: [{ id: `wamid.SECRET${n}` }] }));
const smtp = new FakeSmtpServer();

interface Run {
  name: string;
  app: RunningApp;
  db: { url: string; drop(): Promise<void> };
  sql: Client;
  lines: string[];
  adminKey: string;
}
const runs: Run[] = [];
const secrets = new Set<string>();

async function start(name: string, providers: Record<string, string>): Promise<Run> {
  const db = await createTestDatabase(`secrets_${name}`);
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _enc, done) { lines.push(...String(chunk).split('\n').filter(Boolean)); done(); } });
  const adminKey = `cs_admin_${randomBytes(24).toString('base64url')}`;
  const app = await startApp(loadConfig({
    NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', DATABASE_URL: db.url, ADMIN_API_KEY: adminKey, LOG_LEVEL: 'trace',
    DATA_DIR: mkdtempSync(join(tmpdir(), 'cs-secrets-')), SECRET_KEY: randomBytes(32).toString('hex'),
    OTP_RESEND_COOLDOWN_SECONDS: '0', OTP_TEST_RECIPIENTS: `+91${TEST_MOBILE}:${TEST_CODE}`, ...providers,
  }), pino({ level: 'trace' }, sink));
  const sql = new Client({ connectionString: db.url });
  await sql.connect();
  const run = { name, app, db, sql, lines, adminKey };
  runs.push(run);
  secrets.add(adminKey);
  return run;
}

beforeAll(async () => {
  const [twilioUrl, whatsappUrl, smtpUrl] = await Promise.all([twilio.start(), whatsapp.start(), smtp.start()]);
  await start('fakes', {
    SMS_PROVIDER: 'twilio', TWILIO_ACCOUNT_SID: 'AC1', TWILIO_AUTH_TOKEN: 'token', TWILIO_FROM: '+15005550006', TWILIO_BASE_URL: twilioUrl,
    WHATSAPP_PROVIDER: 'meta', WHATSAPP_TOKEN: 'meta-token', WHATSAPP_PHONE_NUMBER_ID: '1234567890', WHATSAPP_BASE_URL: whatsappUrl,
    EMAIL_PROVIDER: 'smtp', SMTP_URL: smtpUrl, SMTP_FROM: 'otp@countersign.test',
  });
  await start('log', {});
}, 60_000);
afterAll(async () => {
  for (const run of runs) {
    await run.sql.end();
    await run.app.stop();
    await run.db.drop();
  }
  await Promise.all([twilio.stop(), whatsapp.stop(), smtp.stop()]);
});

const isLogProviderLine = (line: string) => { try { return !!JSON.parse(line).otpMessage; } catch { return false; } };

/** Every code any provider got: the fakes' requests and the `log` providers' lines. */
function deliveredCodes(run: Run): string[] {
  const texts = [
    ...twilio.received.map((r) => new URLSearchParams(r.body).get('Body') ?? ''),
    ...whatsapp.received.map((r) => `${JSON.parse(r.body).template.components[0].parameters[0].text} is your verification code`),
    ...smtp.received.map((m) => m.raw),
    ...run.lines.filter(isLogProviderLine).map((l) => JSON.parse(l).otpMessage.text as string),
  ];
  const codeIn = (text: string) => (/^([A-Za-z0-9]{4,10}) is your verification code/.exec(text) ?? /Your verification code is ([A-Za-z0-9]{4,10})\./.exec(text))?.[1];
  return texts.map(codeIn).filter((c): c is string => !!c);
}

async function post(run: Run, path: string, body: unknown, key: string) {
  const res = await fetch(`${run.app.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() as any };
}
const gql = (run: Run, query: string, variables: Record<string, unknown>, key: string) => post(run, '/graphql', { query, variables }, key).then((r) => r.body);

async function settled(run: Run, id: string) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const { rows } = await run.sql.query(`SELECT status FROM otp_deliveries WHERE otp_request_id = $1`, [id]);
    if (rows.every((r) => ['SENT', 'FAILED', 'DELIVERED'].includes(r.status))) return;
    if (Date.now() > deadline) throw new Error('deliveries did not settle');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The code delivered for `id`: the one of the delivered codes that verifies (wrong ones are guesses, also secrets). */
async function verifyWithDeliveredCode(run: Run, id: string, key: string, before: Set<string>) {
  const candidates = deliveredCodes(run).filter((c) => !before.has(c));
  expect(candidates.length).toBeGreaterThan(0);
  candidates.forEach((c) => secrets.add(c));
  const code = candidates.at(-1)!;
  const res = await post(run, '/api/verify-otp', { otp_request_id: id, code }, key);
  expect(res.status).toBe(200);
}

async function realisticFlow(run: Run) {
  const user = await gql(run, 'mutation($i: CreateUserInput!) { createUser(input: $i) { user { id } } }',
    { i: { email: `agent-${run.name}@example.com`, name: 'Agent', role: 'USER', profile: 'Standard' } }, run.adminKey);
  const created = await gql(run, 'mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { key } }', { i: { userId: user.data.createUser.user.id, name: 'crm' } }, run.adminKey);
  const key: string = created.data.createApiKey.key;
  expect(key).toBeTruthy();
  secrets.add(key);

  // REST, every channel, generated code; one wrong guess, then the delivered code
  let before = new Set(deliveredCodes(run));
  const mobile = freshMobile();
  const sent = await post(run, '/api/send-otp', { mobile_no: mobile, email: `${mobile}@example.com`, channel: 'all', source: 'secrets', type: 'simple_otp',
    email_from_name: 'CRM', email_subject: 'Your code', email_template_id: 'otp_email' }, key);
  expect(sent.status).toBe(200);
  await settled(run, sent.body.data.otp_request_id);
  const guess = 'WR0NG9GUES';
  secrets.add(guess);
  expect((await post(run, '/api/verify-otp', { otp_request_id: sent.body.data.otp_request_id, code: guess }, key)).status).toBe(400);
  await verifyWithDeliveredCode(run, sent.body.data.otp_request_id, key, before);

  // GraphQL, 10-character letters and digits, resent (a new code), verified with the resent code
  before = new Set(deliveredCodes(run));
  const sendGql = await gql(run, `mutation($i: SendOtpInput!) { sendOtp(input: $i) { otpRequest { id } userErrors { message } } }`,
    { i: { mobileNo: freshMobile(), channels: ['SMS', 'WHATSAPP'], source: 'secrets', type: 'simple_otp', otpCodeLength: 10, otpCodeType: 'ALPHANUMERIC' } }, key);
  const id = sendGql.data.sendOtp.otpRequest.id;
  await settled(run, id);
  deliveredCodes(run).filter((c) => !before.has(c)).forEach((c) => secrets.add(c));
  before = new Set(deliveredCodes(run));
  const resent = await gql(run, 'mutation($id: ID!) { resendOtp(otpRequestId: $id) { userErrors { message } } }', { id }, key);
  expect(resent.data.resendOtp.userErrors).toEqual([]);
  await settled(run, id);
  await verifyWithDeliveredCode(run, id, key, before);

  // a caller-supplied code left pending (its sealed copy stays in the database: sealed is fine, clear is not)
  const supplied = 'QX7ZK94MPL';
  secrets.add(supplied);
  const pending = await post(run, '/api/send-otp', { mobile_no: freshMobile(), channel: 'sms', source: 'secrets', type: 'simple_otp', otp_code: supplied }, key);
  await settled(run, pending.body.data.otp_request_id);
  const [{ n: sealed }] = (await run.sql.query(`SELECT count(*)::int AS n FROM otp_requests WHERE code_sealed IS NOT NULL`)).rows;
  expect(sealed).toBeGreaterThan(0);

  // a test recipient (fixed code from the configuration), verified by recipient through GraphQL
  secrets.add(TEST_CODE);
  await post(run, '/api/send-otp', { mobile_no: TEST_MOBILE, channel: 'sms', source: 'secrets', type: 'simple_otp' }, key);
  const verified = await gql(run, 'mutation($i: VerifyOtpInput!) { verifyOtp(input: $i) { verified } }', { i: { mobileNo: TEST_MOBILE, source: 'secrets', code: TEST_CODE } }, key);
  expect(verified.data.verifyOtp.verified).toBe(true);
}

/** Whole-token match, case-insensitive (letter codes verify case-insensitively), so digits inside timestamps do not count. */
function findSecrets(text: string): string[] {
  return [...secrets].filter((s) => new RegExp(`(?<![A-Za-z0-9_])${s}(?![A-Za-z0-9_])`, 'i').test(text));
}

test('after a realistic run on fakes and on `log` providers, no code or API key is in clear in the logs or the database', async () => {
  for (const run of runs) await realisticFlow(run);
  expect(secrets.size).toBeGreaterThan(8);
  let linesScanned = 0;
  let valuesScanned = 0;
  const leaks: string[] = [];
  for (const run of runs) {
    const providerLines = run.lines.filter(isLogProviderLine);
    // the exclusion below is not vacuous, and the scanner does find codes where they are expected
    if (run.name === 'log') expect(providerLines.some((l) => findSecrets(l).length > 0)).toBe(true);
    for (const line of run.lines.filter((l) => !isLogProviderLine(l))) {
      linesScanned += 1;
      for (const s of findSecrets(line)) leaks.push(`${run.name} log: ${s} in ${line.slice(0, 300)}`);
    }
    const { rows: tables } = await run.sql.query(`SELECT table_schema, table_name FROM information_schema.tables
      WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`);
    expect(tables.some((t) => t.table_schema === 'pgboss')).toBe(true);
    for (const { table_schema: schema, table_name: table } of tables) {
      const { rows } = await run.sql.query(`SELECT row_to_json(t)::text AS row FROM "${schema}"."${table}" t`);
      for (const { row } of rows) {
        valuesScanned += 1;
        for (const s of findSecrets(row)) leaks.push(`${run.name} db ${schema}.${table}: ${s} in ${row.slice(0, 300)}`);
      }
    }
  }
  expect(leaks).toEqual([]);
  console.log(`secrets drill: ${secrets.size} secrets, ${linesScanned} log lines and ${valuesScanned} rows scanned, 0 found`);
}, 90_000);
