import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnServer, type ServerProcess } from '../support/process';
import { freePort } from '../support/global-setup';
import { createTestDatabase } from '../support/test-database';

// A newcomer runs `npm start` with no NODE_ENV (so: development) and presses "run" in the explorer: every expected
// error they can meet (no key, a role too low, bad input, a limit) must be a clear message with a code, never a stack
// trace. The server runs as its own process, as `npm start` runs it, with NODE_ENV unset and with NODE_ENV=development.

const STACK = /\bat .+\.(js|ts):\d+|stacktrace|node_modules|\/src\//i;
const ADMIN_KEY = `cs_admin_${'s'.repeat(40)}`;
const ACCEPTS = ['application/json', 'application/graphql-response+json'];

describe.each([
  ['NODE_ENV unset (npm start)', ''],
  ['NODE_ENV=development', 'development'],
])('newcomer, %s: expected errors reach the client without stack traces', (_label, nodeEnv) => {
  let server: ServerProcess;
  let base: string;
  let userKey: string;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const db = await createTestDatabase('no_stacks', { migrated: true });
    drop = db.drop;
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    // an empty value is what the configuration reads as unset (config.ts drops empty variables)
    server = spawnServer({
      NODE_ENV: nodeEnv, DATABASE_URL: db.url, PORT: String(port), HOST: '127.0.0.1', ADMIN_API_KEY: ADMIN_KEY, SECRET_KEY: 'cd'.repeat(32),
      DATA_DIR: mkdtempSync(join(tmpdir(), 'cs-stacks-')), GRAPHQL_MAX_COST: '1000', OTP_SEND_LIMIT_PER_KEY_MINUTE: '1', LOG_LEVEL: 'warn',
    });
    await server.waitFor(/GraphQL endpoint/);
    const user = await post('mutation { createUser(input: { email: "plain@example.com", name: "Plain", role: USER, profile: "Standard" }) { user { id } } }');
    const key = await post('mutation($u: ID!) { createApiKey(input: { userId: $u, name: "plain" }) { key } }', { u: JSON.parse(user.text).data.createUser.user.id });
    userKey = JSON.parse(key.text).data.createApiKey.key;
  });
  afterAll(async () => {
    server.child.kill('SIGTERM');
    await server.exited;
    await drop();
  });

  async function post(query: string, variables?: Record<string, unknown>, options: { key?: string | null; accept?: string } = {}) {
    const key = options.key === undefined ? ADMIN_KEY : options.key;
    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: options.accept ?? 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    return { status: res.status, text: await res.text() };
  }

  const cases: Array<[string, string, string, Record<string, unknown> | undefined, () => string | null]> = [
    ['no key yet', 'UNAUTHENTICATED', '{ modules { name } }', undefined, () => null],
    ['no key yet, the explorer loading the schema', 'UNAUTHENTICATED', '{ __schema { queryType { name } } }', undefined, () => null],
    ['a key that does not exist', 'UNAUTHENTICATED', '{ modules { name } }', undefined, () => 'cs_00000000_nope'],
    ['a plain user making an admin', 'FORBIDDEN', 'mutation { createUser(input: { email: "x@example.com", name: "X", role: ADMIN }) { user { id } } }', undefined, () => userKey],
    ['a plain user hard-deleting', 'FORBIDDEN', 'mutation { deleteRecord(id: "00000000-0000-4000-8000-000000000000", hard: true) { userErrors { code } } }', undefined, () => userKey],
    ['a page size below 1', 'BAD_USER_INPUT', '{ records(module: "Contacts", first: 0) { totalCount } }', undefined, () => ADMIN_KEY],
    ['a variable of the wrong type', 'BAD_USER_INPUT', 'query($n: Int!) { records(module: "Contacts", first: $n) { totalCount } }', { n: 'ten' }, () => ADMIN_KEY],
    ['a control character in a text argument', 'BAD_USER_INPUT', '{ records(module: "Contacts\\u0007") { totalCount } }', undefined, () => ADMIN_KEY],
    ['a query that does not parse', 'GRAPHQL_PARSE_FAILED', '{ modules { name }', undefined, () => ADMIN_KEY],
    ['an unknown field', 'GRAPHQL_VALIDATION_FAILED', '{ modules { nope } }', undefined, () => ADMIN_KEY],
    ['past the depth limit', 'GRAPHQL_VALIDATION_FAILED', `{ me { ${'apiKeys { user { '.repeat(5)}id${' } }'.repeat(5)} } }`, undefined, () => ADMIN_KEY],
    ['past the alias limit', 'GRAPHQL_VALIDATION_FAILED', `{ ${Array.from({ length: 16 }, (_, i) => `a${i}: me { email }`).join(' ')} }`, undefined, () => ADMIN_KEY],
    ['past the cost limit', 'GRAPHQL_VALIDATION_FAILED', '{ records(module: "Contacts", first: 100) { nodes { id label fields owner { id email name role } } edges { cursor node { id label fields } } } }', undefined, () => ADMIN_KEY],
  ];

  describe.each(ACCEPTS)('accepting %s', (accept) => {
    test.each(cases)('%s: %s, with a message and no stack', async (_what, code, query, variables, key) => {
      const res = await post(query, variables, { key: key(), accept });
      const body = JSON.parse(res.text);
      expect(body.errors.map((e: { extensions: { code: string } }) => e.extensions.code)).toContain(code);
      for (const error of body.errors) {
        expect(error.message.length).toBeGreaterThan(10);
        expect(Object.keys(error.extensions).filter((k) => ['stacktrace', 'exception', 'originalError'].includes(k))).toEqual([]);
      }
      expect(res.text).not.toMatch(STACK);
    });
  });

  test('a rate limit (GraphQL userError and REST 429) carries no stack', async () => {
    const send = 'mutation { sendOtp(input: { mobileNo: "7977251637", channels: [SMS], source: "stacks", type: "simple_otp" }) { userErrors { code message } } }';
    expect(JSON.parse((await post(send)).text).data.sendOtp.userErrors).toEqual([]);
    const limited = await post(send);
    expect(JSON.parse(limited.text).data.sendOtp.userErrors).toEqual([expect.objectContaining({ code: 'RATE_LIMITED' })]);
    expect(limited.text).not.toMatch(STACK);
    const rest = await fetch(`${base}/api/send-otp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
      body: JSON.stringify({ mobile_no: '7977251638', channel: 'sms', source: 'stacks', type: 'simple_otp' }),
    });
    expect(rest.status).toBe(429);
    expect(await rest.text()).not.toMatch(STACK);
  });

  test('a body past the size limit: 413 PAYLOAD_TOO_LARGE, no stack', async () => {
    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
      body: JSON.stringify({ query: '{ me { email } }', variables: { pad: 'x'.repeat(2 * 1024 * 1024) } }),
    });
    expect(res.status).toBe(413);
    const text = await res.text();
    expect(JSON.parse(text).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
    expect(text).not.toMatch(STACK);
  });
});
