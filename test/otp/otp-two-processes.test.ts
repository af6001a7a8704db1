import { spawn, type ChildProcess } from 'node:child_process';
import { nodeArgs } from '../support/compiled';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/global-setup';
import { createTestDatabase } from '../support/test-database';
import { freshMobile } from './otp-helpers';
import { restPost } from '../support/rest';

/** Two real server processes on one database: limits are shared, and an OTP sent through one verifies through the other. */

interface Instance {
  url: string;
  child: ChildProcess;
  lines: string[];
}

const ADMIN_API_KEY = `cs_admin_${randomBytes(24).toString('base64url')}`;
const SECRET_KEY = randomBytes(32).toString('hex');
let database: { url: string; drop(): Promise<void> };
let instances: Instance[] = [];

async function startInstance(): Promise<Instance> {
  const port = await freePort();
  const child = spawn(process.execPath, nodeArgs('src/main.ts'), {
    cwd: join(__dirname, '..', '..'),
    env: {
      PATH: process.env.PATH, NODE_ENV: 'test', HOST: '127.0.0.1', PORT: String(port), DATABASE_URL: database.url, ADMIN_API_KEY, SECRET_KEY,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'countersign-2p-')), LOG_LEVEL: 'info', OTP_SEND_LIMIT_PER_RECIPIENT_15MIN: '3', DB_POOL_SIZE: '5',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const instance: Instance = { url: `http://127.0.0.1:${port}`, child, lines: [] };
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    const parts = buffer.split('\n');
    buffer = parts.pop()!;
    instance.lines.push(...parts);
  });
  child.stderr!.on('data', (chunk: Buffer) => instance.lines.push(chunk.toString('utf8')));
  const deadline = Date.now() + 40_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`instance exited early: ${instance.lines.join('\n')}`);
    const ok = await fetch(`${instance.url}/readyz`).then((r) => r.ok, () => false);
    if (ok) return instance;
    if (Date.now() > deadline) throw new Error(`instance did not start: ${instance.lines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function stopInstance(instance: Instance): Promise<number | null> {
  if (instance.child.exitCode !== null) return instance.child.exitCode;
  const exited = new Promise<number | null>((resolve) => instance.child.once('exit', (code) => resolve(code)));
  instance.child.kill('SIGTERM');
  const timer = setTimeout(() => instance.child.kill('SIGKILL'), 25_000);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

function post(instance: Instance, path: string, body: unknown) {
  // checked against openapi.json
  return restPost({ url: instance.url, adminKey: ADMIN_API_KEY }, path, body).then(({ status, body: answer }) => ({ status, body: answer }));
}

/** The `log` provider writes each message to the log of whichever instance's worker delivered it. */
async function loggedCode(mobile: string): Promise<string> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    for (const line of instances.flatMap((i) => i.lines)) {
      if (!line.includes('otpMessage') || !line.includes(mobile)) continue;
      const match = /(\d{6}) is your verification code/.exec(JSON.parse(line).otpMessage.text);
      if (match) return match[1];
    }
    if (Date.now() > deadline) throw new Error('no OTP message was logged');
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  database = await createTestDatabase('otp_two_processes');
  instances = [await startInstance()];
  instances.push(await startInstance()); // one after the other: the second finds the schema migrated
}, 90_000);

afterAll(async () => {
  await Promise.all(instances.map((instance) => stopInstance(instance)));
  await database.drop();
}, 30_000);

test('per-recipient limits are shared by both instances', async () => {
  const [a, b] = instances;
  const mobile = freshMobile();
  const body = { mobile_no: mobile, channel: 'sms', source: 'two_processes', type: 'simple_otp' };
  expect((await post(a, '/api/send-otp', body)).status).toBe(200);
  expect((await post(b, '/api/send-otp', body)).status).toBe(200);
  expect((await post(a, '/api/send-otp', body)).status).toBe(200);
  const limited = await post(b, '/api/send-otp', body);
  expect(limited.status).toBe(429);
  expect(limited.body.data.reason).toBe('RATE_LIMITED');
});

test('an OTP sent through one instance verifies through the other', async () => {
  const [a, b] = instances;
  const mobile = freshMobile();
  const sent = await post(a, '/api/send-otp', { mobile_no: mobile, channel: 'sms', source: 'two_processes', type: 'simple_otp' });
  expect(sent.status).toBe(200);
  const code = await loggedCode(mobile.slice(-4));
  const verified = await post(b, '/api/verify-otp', { mobile_no: mobile, source: 'two_processes', code });
  expect(verified).toEqual({ status: 200, body: { status: true, message: 'OTP verified', data: { otp_request_id: sent.body.data.otp_request_id } } });
  const again = await post(a, '/api/verify-otp', { otp_request_id: sent.body.data.otp_request_id, code });
  expect(again.status).toBe(400);
});

test('SIGTERM stops an instance cleanly (exit code 0, not the force-exit timer)', async () => {
  expect(await stopInstance(instances[1])).toBe(0);
  expect((await post(instances[0], '/api/send-otp', { mobile_no: freshMobile(), channel: 'sms', source: 'two_processes', type: 'simple_otp' })).status).toBe(200);
}, 30_000);
