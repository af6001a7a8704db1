import http from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { spawnServer } from '../support/process';
import { freePort } from '../support/global-setup';
import { createTestDatabase } from '../support/test-database';
import { SlowCountingTwilio } from '../otp/fake-providers';
import { freshMobile } from '../otp/otp-helpers';
import { until } from '../support/poll';

const CONCURRENT = 20;

/** A create whose body is held back until `release()`: in flight from the server's point of view once `accepted`. */
function heldRequest(port: number, key: string, n: number) {
  const body = JSON.stringify({ query: `mutation { createRecord(module: "Contacts", fields: { lastName: "Drain ${n}" }) { record { id } } }` });
  const req = http.request({
    host: '127.0.0.1', port, path: '/graphql', method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${key}`, expect: '100-continue' },
  });
  const accepted = new Promise<void>((resolve, reject) => { req.once('continue', resolve); req.once('error', reject); });
  const done = new Promise<{ status: number; id: string | null }>((resolve, reject) => {
    req.once('error', reject);
    req.once('response', (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, id: JSON.parse(text).data?.createRecord?.record?.id ?? null }));
    });
  });
  req.flushHeaders();
  return { accepted, done, release: () => req.end(body) };
}

test(`SIGTERM with ${CONCURRENT} requests in flight: all complete, new connections are refused, exit 0 within the grace period`, async () => {
  const db = await createTestDatabase('drain');
  const port = await freePort();
  const key = `cs_admin_${'d'.repeat(40)}`;
  const server = spawnServer({ DATABASE_URL: db.url, PORT: String(port), HOST: '127.0.0.1', ADMIN_API_KEY: key, SECRET_KEY: 'ab'.repeat(32), DATA_DIR: mkdtempSync(join(tmpdir(), 'cs-drain-')), SHUTDOWN_TIMEOUT_MS: '10000' });
  const client = new Client({ connectionString: db.url });
  try {
    await server.waitFor(/GraphQL endpoint/);
    const held = Array.from({ length: CONCURRENT }, (_, n) => heldRequest(port, key, n));
    await Promise.all(held.map((h) => h.accepted));
    const signalledAt = Date.now();
    server.child.kill('SIGTERM');
    await server.waitFor(/shutting down/);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow(); // no new connections
    held.forEach((h) => h.release());
    const answers = await Promise.all(held.map((h) => h.done));
    expect(answers.every((a) => a.status === 200 && a.id)).toBe(true);
    const exit = await server.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalledAt).toBeLessThan(10_000);
    await client.connect();
    const { rows } = await client.query('SELECT count(*)::int AS n FROM records WHERE id = ANY($1::uuid[])', [answers.map((a) => a.id)]);
    expect(rows[0].n).toBe(CONCURRENT);
  } finally {
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
    await client.end().catch(() => undefined);
    await db.drop();
  }
}, 60_000);

const QUEUED_SENDS = process.env.DRILLS === 'full' ? 40 : 12;
const HELD_SENDS = 5;

/** A REST send-otp held back like `heldRequest`. */
function heldSend(port: number, key: string, mobile: string) {
  const body = JSON.stringify({ mobile_no: mobile, channel: 'sms', source: 'drain', type: 'simple_otp' });
  const req = http.request({
    host: '127.0.0.1', port, path: '/api/send-otp', method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${key}`, expect: '100-continue' },
  });
  const accepted = new Promise<void>((resolve, reject) => { req.once('continue', resolve); req.once('error', reject); });
  const done = new Promise<number>((resolve, reject) => {
    req.once('error', reject);
    req.once('response', (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); });
  });
  req.flushHeaders();
  return { accepted, done, release: () => req.end(body) };
}

test(`SIGTERM with ${QUEUED_SENDS} deliveries queued and ${HELD_SENDS} sends in flight: the running delivery finishes, the rest wait for the next start, none lost or repeated`, async () => {
  const db = await createTestDatabase('drain_jobs');
  const twilio = new SlowCountingTwilio(300);
  const port = await freePort();
  const key = `cs_admin_${'j'.repeat(40)}`;
  const env = {
    DATABASE_URL: db.url, PORT: String(port), HOST: '127.0.0.1', ADMIN_API_KEY: key, DATA_DIR: mkdtempSync(join(tmpdir(), 'cs-drain-jobs-')),
    SECRET_KEY: 'ab'.repeat(32), SHUTDOWN_TIMEOUT_MS: '10000', OTP_SEND_LIMIT_PER_KEY_MINUTE: '1000',
    SMS_PROVIDER: 'twilio', TWILIO_ACCOUNT_SID: 'AC1', TWILIO_AUTH_TOKEN: 'token', TWILIO_FROM: '+15005550006', TWILIO_BASE_URL: await twilio.start(),
  };
  const client = new Client({ connectionString: db.url });
  let server = spawnServer(env);
  try {
    await server.waitFor(/GraphQL endpoint/);
    await client.connect();
    const mobiles = Array.from({ length: QUEUED_SENDS + HELD_SENDS }, () => freshMobile());
    for (const mobile of mobiles.slice(0, QUEUED_SENDS)) {
      const res = await fetch(`http://127.0.0.1:${port}/api/send-otp`, {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ mobile_no: mobile, channel: 'sms', source: 'drain', type: 'simple_otp' }),
      });
      expect(res.status).toBe(200);
    }
    const held = mobiles.slice(QUEUED_SENDS).map((m) => heldSend(port, key, m));
    await Promise.all(held.map((h) => h.accepted));
    await until('a delivery in the provider\'s hands', () => twilio.pending > 0, 20_000);

    const signalledAt = Date.now();
    server.child.kill('SIGTERM');
    await server.waitFor(/shutting down/);
    held.forEach((h) => h.release());
    expect(await Promise.all(held.map((h) => h.done))).toEqual(Array(HELD_SENDS).fill(200));
    expect(await server.exited).toEqual({ code: 0, signal: null });
    const exitMs = Date.now() - signalledAt;
    expect(exitMs).toBeLessThan(10_000);

    const left = Object.fromEntries((await client.query(`SELECT status, count(*)::int AS n FROM otp_deliveries GROUP BY status`)).rows.map((r) => [r.status, r.n]));
    expect(left.SENDING ?? 0).toBe(0); // the delivery running at SIGTERM was finished, not cut
    expect(left.FAILED ?? 0).toBe(0);
    expect(left.QUEUED).toBeGreaterThan(0); // left for the next start
    expect(left.SENT + left.QUEUED).toBe(QUEUED_SENDS + HELD_SENDS);
    expect(twilio.total).toBe(left.SENT);

    server = spawnServer(env);
    await server.waitFor(/GraphQL endpoint/);
    await until('every delivery sent', async () => (await client.query(`SELECT count(*)::int AS n FROM otp_deliveries WHERE status = 'SENT'`)).rows[0].n === QUEUED_SENDS + HELD_SENDS, 60_000);
    expect(twilio.total).toBe(QUEUED_SENDS + HELD_SENDS);
    for (const mobile of mobiles) expect(twilio.received.get(`+91${mobile}`)).toBe(1);
    console.log(`drain drill: SIGTERM exit in ${exitMs} ms; ${left.SENT} delivered before, ${left.QUEUED} left queued and delivered after restart; provider count ${twilio.total}`);
  } finally {
    if (server.child.exitCode === null && server.child.signalCode === null) {
      server.child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([server.exited, new Promise((r) => { timer = setTimeout(r, 15_000); })]);
      clearTimeout(timer);
    }
    await client.end().catch(() => undefined);
    await twilio.stop();
    await db.drop();
  }
}, 120_000);
