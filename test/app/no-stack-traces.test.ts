import { startTestServer, type TestServer } from '../support/test-server';

// A newcomer runs `npm start` (NODE_ENV=development) and presses "run" in the explorer before pasting a key: the
// first answer they meet must be a clear error, not a server stack trace. Stacks stay in the server's log.
let t: TestServer;
beforeAll(async () => { t = await startTestServer('no_stacks', { NODE_ENV: 'development' }); });
afterAll(() => t.close());

const STACK = /\bat .+\.(js|ts):\d+|stacktrace|node_modules/i;

async function post(body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(t.app.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, text: await res.text() };
}

describe('newcomer (development mode): errors reach the client without stack traces', () => {
  test('no key yet: UNAUTHENTICATED with a clear message and no stack', async () => {
    const res = await post({ query: '{ modules { name } }' });
    expect(res.status).toBe(401);
    expect(JSON.parse(res.text).errors[0]).toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    expect(JSON.parse(res.text).errors[0].message).toMatch(/Authorization: Bearer/);
    expect(res.text).not.toMatch(STACK);
  });

  test('a key that does not exist, a query that does not parse and an unknown field: clear errors, no stack', async () => {
    const badKey = await post({ query: '{ modules { name } }' }, { authorization: 'Bearer cs_00000000_nope' });
    expect(badKey.status).toBe(401);
    expect(badKey.text).not.toMatch(STACK);
    for (const query of ['{ modules { name }', '{ modules { nope } }']) {
      const res = await post({ query }, { authorization: `Bearer ${t.adminKey}` });
      expect(res.status).toBe(400);
      expect(JSON.parse(res.text).errors.length).toBeGreaterThan(0);
      expect(res.text).not.toMatch(STACK);
    }
  });
});
