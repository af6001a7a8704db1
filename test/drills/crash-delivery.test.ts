import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { INTERRUPTED } from '../../src/otp/delivery/delivery-worker';
import { freePort } from '../support/global-setup';
import { spawnServer, type ServerProcess } from '../support/process';
import { createTestDatabase } from '../support/test-database';
import { freshMobile } from '../otp/otp-helpers';
import { SlowCountingTwilio } from '../otp/fake-providers';
import { until } from '../support/poll';

/**
 * SIGKILL during delivery. The server (a child process) delivers N SMS through a slow fake Twilio that counts what it
 * receives; it is killed while messages are in the provider's hands (the worker calls the providers of a batch side by
 * side, so several may be); after a restart every delivery ends final, the provider received no message twice and every
 * SENT one exactly once, and the ones cut mid-call are not sent again: they end FAILED with the "interrupted" reason,
 * as the outcome of a cut call is unknown to the server.
 */
const N = process.env.DRILLS === 'full' ? 40 : 8;

test(`SIGKILL while ${N} SMS are being delivered: after a restart no message reached the provider twice and every SENT one exactly once`, async () => {
  const db = await createTestDatabase('crash_delivery');
  const twilio = new SlowCountingTwilio(400);
  const client = new Client({ connectionString: db.url });
  const port = await freePort();
  const key = `cs_admin_${randomBytes(24).toString('base64url')}`;
  const env = {
    DATABASE_URL: db.url, PORT: String(port), HOST: '127.0.0.1', ADMIN_API_KEY: key, SECRET_KEY: randomBytes(32).toString('hex'),
    DATA_DIR: mkdtempSync(join(tmpdir(), 'cs-crash-')), LOG_LEVEL: 'warn',
    SMS_PROVIDER: 'twilio', TWILIO_ACCOUNT_SID: 'AC1', TWILIO_AUTH_TOKEN: 'token', TWILIO_FROM: '+15005550006', TWILIO_BASE_URL: await twilio.start(),
    OTP_PROVIDER_TIMEOUT_MS: '1000', OTP_DELIVERY_RETRY_DELAY_SECONDS: '1', OTP_SEND_LIMIT_PER_KEY_MINUTE: '1000',
  };
  let server: ServerProcess | null = null;
  try {
    server = spawnServer(env);
    await server.waitFor(/GraphQL endpoint/);
    await client.connect();
    const mobiles = Array.from({ length: N }, () => freshMobile());
    const send = async (mobile: string) => {
      const res = await fetch(`http://127.0.0.1:${port}/api/send-otp`, {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ mobile_no: mobile, channel: 'sms', source: 'crash', type: 'simple_otp' }),
      });
      expect(res.status).toBe(200);
    };
    // the first messages go out in a batch; the rest are queued while that batch waits on the slow provider
    for (const mobile of mobiles.slice(0, 2)) await send(mobile);
    await until('a message in the provider\'s hands', () => twilio.pending > 0, 30_000);
    await Promise.all(mobiles.slice(2).map(send));
    // kill while the provider holds messages (received, not yet answered) and others still wait
    await until('a message still in the provider\'s hands', () => twilio.pending > 0, 30_000);
    server.child.kill('SIGKILL');
    expect(await server.exited).toEqual({ code: null, signal: 'SIGKILL' });
    const atKill = (await client.query(`SELECT status, count(*)::int AS n FROM otp_deliveries GROUP BY status`)).rows;
    const statusesAtKill: Record<string, number> = Object.fromEntries(atKill.map((r) => [r.status, r.n]));
    const cut = statusesAtKill.SENDING ?? 0;
    expect(cut).toBeGreaterThanOrEqual(1);
    expect(statusesAtKill.QUEUED).toBeGreaterThan(0);
    const sendingAtKill = (await client.query(`SELECT recipient FROM otp_deliveries WHERE status = 'SENDING'`)).rows.map((r) => r.recipient as string);

    server = spawnServer(env);
    await server.waitFor(/GraphQL endpoint/);
    const rows = await until('every delivery final', async () => {
      const { rows: all } = await client.query(`SELECT recipient, status, error, attempts, code_sealed FROM otp_deliveries`);
      return all.every((r) => ['SENT', 'FAILED'].includes(r.status)) && all;
    }, 60_000);

    expect(rows).toHaveLength(N);
    // nothing sent twice; every message the server calls SENT reached the provider exactly once
    for (const mobile of mobiles) expect(twilio.received.get(`+91${mobile}`) ?? 0).toBeLessThanOrEqual(1);
    const sent = rows.filter((r) => r.status === 'SENT');
    for (const r of sent) expect(twilio.received.get(r.recipient)).toBe(1);
    // exactly the deliveries cut mid-call end FAILED (interrupted), each after its one attempt
    const failed = rows.filter((r) => r.status === 'FAILED');
    expect(failed.map((r) => r.recipient).sort()).toEqual([...sendingAtKill].sort());
    for (const r of failed) expect(r).toEqual({ recipient: expect.any(String), status: 'FAILED', error: INTERRUPTED, attempts: 1, code_sealed: null });
    expect(sent).toHaveLength(N - cut);
    expect(rows.every((r) => r.code_sealed === null)).toBe(true);
    console.log(`crash drill: ${N} deliveries, killed with ${JSON.stringify(statusesAtKill)}; after restart ${N - cut} SENT, ${cut} FAILED (interrupted), provider count ${twilio.total}`);
  } finally {
    if (server && server.child.exitCode === null && server.child.signalCode === null) {
      server.child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([server.exited, new Promise((r) => { timer = setTimeout(r, 15_000); })]);
      clearTimeout(timer);
      if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
    }
    await client.end().catch(() => undefined);
    await twilio.stop();
    await db.drop();
  }
}, 120_000);
