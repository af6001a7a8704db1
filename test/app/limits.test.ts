import { startTestServer, type TestServer } from '../support/test-server';

let t: TestServer;
beforeAll(async () => { t = await startTestServer('limits'); });
afterAll(() => t.close());

const countRecords = async () => (await t.sql('SELECT count(*)::int AS n FROM records'))[0].n as number;

async function post(body: string | Buffer, headers: Record<string, string> = {}) {
  const res = await fetch(t.app.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${t.adminKey}`, ...headers },
    body,
  });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) };
}

function expectClearError(text: string) {
  expect(text).not.toMatch(/\bat .+\.(js|ts):\d+/); // no stack frames
  expect(text).not.toMatch(/stacktrace/i);
}

const MUTATION = 'createRecord(module: "Contacts", fields: { lastName: "Limit" }) { record { id } }';

describe('query limits', () => {
  test('a 12-deep query is refused before execution, and a mutation in it writes nothing', async () => {
    const before = await countRecords();
    const res = await post(JSON.stringify({ query: `mutation { ${MUTATION} createUser(input: { email: "deep@example.com", name: "Deep", role: USER }) { user { ${depthChain(10)} } } }` }));
    expect(res.status).toBe(400);
    expect(res.json.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(res.json.errors[0].message).toMatch(/depth limit of 10 exceeded, found 12/i);
    expectClearError(res.text);
    expect(await countRecords()).toBe(before);
    expect(await t.sql("SELECT id FROM users WHERE email = 'deep@example.com'")).toEqual([]);
  });

  test('a 10-deep query is allowed', async () => {
    const res = await post(JSON.stringify({ query: `query { me { ${depthChain(9)} } }` }));
    expect(res.json.errors).toBeUndefined();
  });

  test('16 aliases are refused and nothing is written; 15 are allowed', async () => {
    const before = await countRecords();
    const aliases = (n: number) => Array.from({ length: n }, (_, i) => `a${i}: ${MUTATION}`).join('\n');
    const refused = await post(JSON.stringify({ query: `mutation { ${aliases(16)} }` }));
    expect(refused.status).toBe(400);
    expect(refused.json.errors[0].message).toMatch(/alias/i);
    expect(await countRecords()).toBe(before);
    const allowed = await post(JSON.stringify({ query: `mutation { ${aliases(15)} }` }));
    expect(allowed.json.errors).toBeUndefined();
    expect(await countRecords()).toBe(before + 15);
  });

  test('a too-costly query is refused', async () => {
    const fields = 'id label version fields createdAt updatedAt deletedAt owner { id email name role profile active createdAt }';
    const wide = Array.from({ length: 15 }, (_, i) => `r${i}: records(module: "Contacts", first: 100) { totalCount nodes { ${fields} } edges { cursor node { ${fields} } } pageInfo { hasNextPage endCursor } }`).join('\n');
    const res = await post(JSON.stringify({ query: `query { ${wide} }` }));
    expect(res.status).toBe(400);
    expect(res.json.errors[0].message).toMatch(/cost/i);
  });
});

describe('HTTP-level limits', () => {
  test('a 2 MB body is 413 PAYLOAD_TOO_LARGE and nothing is written', async () => {
    const before = await countRecords();
    const body = JSON.stringify({ query: `mutation($f: JSONObject!) { createRecord(module: "Contacts", fields: $f) { record { id } } }`, variables: { f: { lastName: 'Big', title: 'x'.repeat(2 * 1024 * 1024) } } });
    const res = await post(body);
    expect(res.status).toBe(413);
    expect(res.json.errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
    expectClearError(res.text);
    expect(await countRecords()).toBe(before);
  });

  test('an array body (batched request) is refused and nothing is written', async () => {
    const before = await countRecords();
    const res = await post(JSON.stringify([{ query: `mutation { ${MUTATION} }` }, { query: `mutation { ${MUTATION} }` }]));
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.json)).toMatch(/batch/i);
    expectClearError(res.text);
    expect(await countRecords()).toBe(before);
  });

  test('malformed JSON is 400 BAD_REQUEST with a clear message', async () => {
    const res = await post('{"query": "{ me { email } }"');
    expect(res.status).toBe(400);
    expect(res.json.errors[0]).toEqual({ message: 'The request body is not valid JSON.', extensions: { code: 'BAD_REQUEST' } });
  });

  test('unknown fields and wrong argument types are validation errors, not crashes', async () => {
    const unknown = await post(JSON.stringify({ query: '{ me { shoeSize } }' }));
    expect(unknown.status).toBe(400);
    expect(unknown.json.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const wrongType = await post(JSON.stringify({ query: 'query($n: Int!) { records(module: "Contacts", first: $n) { totalCount } }', variables: { n: 'ten' } }));
    expect(wrongType.status).toBe(400);
    expect(wrongType.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expectClearError(wrongType.text);
  });

  test('CSRF prevention: a GET query without a preflight header is refused; with one it runs', async () => {
    const url = `${t.app.graphqlUrl}?query=${encodeURIComponent('{ me { email } }')}`;
    const refused = await fetch(url, { headers: { authorization: `Bearer ${t.adminKey}` } });
    expect(refused.status).toBe(400);
    const allowed = await fetch(url, { headers: { authorization: `Bearer ${t.adminKey}`, 'apollo-require-preflight': 'true' } });
    expect(((await allowed.json()) as any).data.me.email).toBe('admin@countersign.local');
  });

  test('a GET mutation is refused', async () => {
    const before = await countRecords();
    const url = `${t.app.graphqlUrl}?query=${encodeURIComponent(`mutation { ${MUTATION} }`)}`;
    const res = await fetch(url, { headers: { authorization: `Bearer ${t.adminKey}`, 'apollo-require-preflight': 'true' } });
    expect(res.status).toBe(405);
    expect(await countRecords()).toBe(before);
  });
});

/** A selection `depth` fields deep below its parent, through the User ↔ ApiKey cycle: apiKeys { user { apiKeys { … id } } }. */
function depthChain(depth: number): string {
  let inner = 'id';
  for (let level = depth - 1; level >= 1; level -= 1) inner = `${level % 2 ? 'apiKeys' : 'user'} { ${inner} }`;
  return inner;
}
