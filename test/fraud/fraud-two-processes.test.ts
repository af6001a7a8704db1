import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/global-setup';
import { until } from '../support/poll';
import { spawnServer, type ServerProcess } from '../support/process';
import { createTestDatabase } from '../support/test-database';

/**
 * Two real server processes on one database: the fraud guard's prefix counters and blocks, its geo permissions, and
 * the extra send limits (per user per minute, per API key per day, per client address per minute, global per minute)
 * are all shared, and answer the same way through either process.
 */

const ADMIN_API_KEY = `cs_admin_${randomBytes(24).toString('base64url')}`;
const SECRET_KEY = randomBytes(32).toString('hex');
const LIMITS = { OTP_SEND_LIMIT_PER_USER_MINUTE: 30, OTP_SEND_LIMIT_PER_KEY_DAY: 25, OTP_SEND_LIMIT_PER_IP_MINUTE: 10, OTP_SEND_LIMIT_GLOBAL_MINUTE: 150 };

interface Instance { url: string; server: ServerProcess }
let database: { url: string; drop(): Promise<void> };
let instances: Instance[] = [];
/** Every send the servers accepted in this file: the global limit counts exactly these. */
let accepted = 0;

async function startInstance(): Promise<Instance> {
  const port = await freePort();
  const server = spawnServer({
    NODE_ENV: 'test', HOST: '127.0.0.1', PORT: String(port), DATABASE_URL: database.url, ADMIN_API_KEY, SECRET_KEY, OTP_WORKER: 'false',
    DATA_DIR: mkdtempSync(join(tmpdir(), 'countersign-fraud-2p-')), DB_POOL_SIZE: '5', LOG_LEVEL: 'warn',
    ...Object.fromEntries(Object.entries(LIMITS).map(([k, v]) => [k, String(v)])),
  });
  const url = `http://127.0.0.1:${port}`;
  await until('the instance is ready', async () => {
    if (server.child.exitCode !== null) throw new Error(`instance exited early: ${server.output()}`);
    return fetch(`${url}/readyz`).then((r) => r.ok, () => false);
  }, 60_000);
  return { url, server };
}

async function stopInstance(instance: Instance): Promise<void> {
  if (instance.server.child.exitCode !== null) return;
  instance.server.child.kill('SIGTERM');
  await instance.server.exited;
}

let serial = 0;
/** A fresh Indian mobile in a prefix of its own (so no prefix ever nears its block in the limit tests). */
function loneMobile(): string {
  serial += 1;
  return `97${String(serial).padStart(4, '0')}0001`;
}

let address = 0;
/** A client address of its own (the servers trust X-Forwarded-For from loopback, as behind a local proxy). */
function freshAddress(): string {
  address += 1;
  return `192.0.2.${address % 250}`;
}

async function send(instance: Instance, mobile: string, key: string, ip: string = freshAddress()) {
  const res = await fetch(`${instance.url}/api/send-otp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, 'x-forwarded-for': ip },
    body: JSON.stringify({ mobile_no: mobile, channel: 'sms', source: 'two_processes', type: 'simple_otp' }),
  });
  const body = await res.json() as any;
  if (res.status === 200) accepted += 1;
  return { status: res.status, body, retryAfter: res.headers.get('retry-after') };
}

async function gql(instance: Instance, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(`${instance.url}/graphql`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_API_KEY}` }, body: JSON.stringify({ query, variables }),
  });
  return (await res.json() as any).data;
}

/** A user of its own with `keys` API keys. */
async function userWithKeys(keys: number): Promise<string[]> {
  const created = await gql(instances[0], `mutation($i: CreateUserInput!) { createUser(input: $i) { user { id } } }`,
    { i: { email: `fraud2p-${randomBytes(3).toString('hex')}@example.com`, name: 'Sender', role: 'USER', profile: 'Standard' } });
  const out: string[] = [];
  for (let i = 0; i < keys; i += 1) {
    out.push((await gql(instances[0], `mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { key } }`, { i: { userId: created.createUser.user.id, name: `k${i}` } })).createApiKey.key);
  }
  return out;
}

beforeAll(async () => {
  database = await createTestDatabase('fraud_two_processes');
  instances = [await startInstance()];
  instances.push(await startInstance()); // one after the other: the second finds the schema migrated
}, 120_000);

afterAll(async () => {
  await Promise.all(instances.map(stopInstance));
  await database.drop();
}, 30_000);

describe('a bot spreads its sends over two server processes', () => {
  test('the prefix counters are shared: 20 sends through either process, then both refuse the prefix', async () => {
    const [key] = await userWithKeys(1);
    const statuses: number[] = [];
    for (let i = 0; i < 22; i += 1) statuses.push((await send(instances[i % 2], `98767${String(i).padStart(5, '0')}`, key)).status);
    expect(statuses).toEqual([...Array(20).fill(200), 429, 429]);
    const refused = await send(instances[0], '9876700099', key);
    expect(refused.body.data.reason).toBe('FRAUD_SUSPECTED');
    expect(Number(refused.retryAfter)).toBeGreaterThan(12 * 3600 - 60);
  });

  test('an admin change on one process applies on the other', async () => {
    const [key] = await userWithKeys(1);
    await gql(instances[0], 'mutation { setGeoPermission(country: "IN", action: BLOCK) { userErrors { code } } }');
    try {
      await until('the other process blocks IN', async () => (await send(instances[1], loneMobile(), key)).status === 422, 10_000);
    } finally {
      await gql(instances[1], 'mutation { removeGeoPermission(country: "IN") { userErrors { code } } }');
    }
    await until('both processes allow IN again', async () => (await send(instances[0], loneMobile(), key)).status === 200
      && (await send(instances[1], loneMobile(), key)).status === 200, 10_000);
  });
});

describe('extra limits are shared by two server processes and answer RATE_LIMITED with a retry time', () => {
  test(`per acting user per minute (${LIMITS.OTP_SEND_LIMIT_PER_USER_MINUTE}), across two API keys of the same user`, async () => {
    const [first, second] = await userWithKeys(2);
    for (let i = 0; i < LIMITS.OTP_SEND_LIMIT_PER_USER_MINUTE; i += 1) expect((await send(instances[i % 2], loneMobile(), i % 2 ? second : first)).status).toBe(200);
    const refused = await send(instances[1], loneMobile(), first);
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ status: false, message: expect.stringContaining('by this user in the last minute'), data: { reason: 'RATE_LIMITED', retry_after: expect.any(Number) } });
    expect(refused.body.data.retry_after).toBeLessThanOrEqual(60);
    expect(refused.retryAfter).toBe(String(refused.body.data.retry_after));
  });

  test(`per API key per day (${LIMITS.OTP_SEND_LIMIT_PER_KEY_DAY})`, async () => {
    const [key] = await userWithKeys(1);
    for (let i = 0; i < LIMITS.OTP_SEND_LIMIT_PER_KEY_DAY; i += 1) expect((await send(instances[i % 2], loneMobile(), key)).status).toBe(200);
    const refused = await send(instances[0], loneMobile(), key);
    expect(refused.status).toBe(429);
    expect(refused.body.message).toContain('with this API key today');
    expect(refused.body.data.retry_after).toBeGreaterThan(23 * 3600);
  });

  test(`per client address per minute (${LIMITS.OTP_SEND_LIMIT_PER_IP_MINUTE}), whatever the key`, async () => {
    const keys = await userWithKeys(2);
    const ip = '198.51.100.9';
    for (let i = 0; i < LIMITS.OTP_SEND_LIMIT_PER_IP_MINUTE; i += 1) expect((await send(instances[i % 2], loneMobile(), keys[i % 2], ip)).status).toBe(200);
    const refused = await send(instances[1], loneMobile(), keys[0], ip);
    expect(refused.status).toBe(429);
    expect(refused.body.message).toContain('from this address');
    expect((await send(instances[1], loneMobile(), keys[0])).status).toBe(200); // another address still sends
  });

  test(`global per minute (${LIMITS.OTP_SEND_LIMIT_GLOBAL_MINUTE}): refused sends above took no point from it`, async () => {
    const keys = [...await userWithKeys(1), ...await userWithKeys(1), ...await userWithKeys(1), ...await userWithKeys(1)];
    let i = 0;
    while (accepted < LIMITS.OTP_SEND_LIMIT_GLOBAL_MINUTE) {
      expect((await send(instances[i % 2], loneMobile(), keys[Math.floor(i / 20) % keys.length])).status).toBe(200);
      i += 1;
    }
    const refused = await send(instances[i % 2], loneMobile(), keys[3]);
    expect(refused.status).toBe(429);
    expect(refused.body.message).toContain('being sent right now');
  });
});
