import { startTestServer, type TestServer } from '../support/test-server';
import { SYSTEM } from '../connections/helpers';
import { FILTER_COST } from '../../src/app/operation-analysis';
import { MAX_FILTERS, MAX_FILTER_VALUE_LENGTH } from '../../src/records/record.query';

let t: TestServer;
beforeAll(async () => { t = await startTestServer('limits'); });
afterAll(() => t.close());

// These requests accept application/json (fetch sends `Accept: */*`): GraphQL over HTTP answers a request refused
// before it runs (parse, validation, limits, variable coercion) with 200 and `errors` only. Clients asking for
// application/graphql-response+json get 400: test/app/graphql-over-http.test.ts.
const REFUSED = 200;

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
    expect(res.status).toBe(REFUSED);
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
    expect(refused.status).toBe(REFUSED);
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
    expect(res.status).toBe(REFUSED);
    expect(res.json.errors[0].message).toMatch(/cost/i);
  });
});

/** records → connections → otherRecord → connections, each list sized by `args` (the shape that returned 25,230 objects). */
function nested(args: string): string {
  const size = args ? `(${args})` : '';
  return `records(module: "Contacts"${args ? `, ${args}` : ''}) {
    nodes { id label connections${size} { nodes { label otherRecord { id label connections${size} { nodes { label } } } } } }
  }`;
}
const NESTED_QUERY = `query($n: Int!) { ${nested('first: $n')} }`;
/**
 * Its cost by the documented model (objects 2, scalars 1, lists × their size), from the inside out: the inner
 * connections (2 + 2 + 1) × n; otherRecord 2 + 1 + 1 + 5n; a connection node 2 + 1 + (4 + 5n); the outer connections
 * (2 + 7 + 5n) × n; a record node 2 + 1 + 1 + (9 + 5n) × n; the page (2 + 4 + (9 + 5n) × n) × n.
 */
const nestedCost = (n: number) => (6 + (9 + 5 * n) * n) * n;

function expectCostRefusal(res: { status: number; json: any; text: string }): number {
  expect(res.status).toBe(REFUSED);
  expect(res.json.data).toBeUndefined();
  expect(res.json.errors).toHaveLength(1);
  expect(res.json.errors[0].extensions).toEqual({ code: 'GRAPHQL_VALIDATION_FAILED' });
  const match = /^Query Cost limit of 50000 exceeded, found (\d+)\.$/.exec(res.json.errors[0].message);
  if (!match) throw new Error(res.text);
  expect(match).not.toBeNull();
  expectClearError(res.text);
  return Number(match![1]);
}

describe('attacker: list sizes through variables, defaults and fragments (cost limit)', () => {
  let contactIds: string[];
  beforeAll(async () => {
    contactIds = [];
    for (const lastName of ['Cost A', 'Cost B', 'Cost C']) {
      const res = await post(JSON.stringify({ query: `mutation { createRecord(module: "Contacts", fields: { lastName: "${lastName}" }) { record { id } } }` }));
      contactIds.push(res.json.data.createRecord.record.id);
    }
    for (const [a, b] of [[0, 1], [1, 2]]) {
      const res = await post(JSON.stringify({ query: 'mutation($i: CreateConnectionInput!) { createConnection(input: $i) { userErrors { message } } }', variables: { i: { typeId: SYSTEM.knows, sourceId: contactIds[a], targetId: contactIds[b] } } }));
      expect(res.json.data.createConnection.userErrors).toEqual([]);
    }
  });

  test('the nested records → connections → otherRecord → connections query with $n = 100 is refused, at the cost the literal 100 has', async () => {
    const withVariable = expectCostRefusal(await post(JSON.stringify({ query: NESTED_QUERY, variables: { n: 100 } })));
    const withLiteral = expectCostRefusal(await post(JSON.stringify({ query: `query { ${nested('first: 100')} }` })));
    expect(withVariable).toBe(nestedCost(100));
    expect(withLiteral).toBe(nestedCost(100));
  });

  test('five aliases of the nested query with $n = 100 are refused', async () => {
    const aliases = Array.from({ length: 5 }, (_, i) => `a${i}: ${nested('first: $n')}`).join('\n');
    const res = await post(JSON.stringify({ query: `query($n: Int!) { ${aliases} }`, variables: { n: 100 } }));
    expect(expectCostRefusal(res)).toBe(5 * nestedCost(100));
  });

  test('a mutation whose answer reads lists sized by a variable is refused whole: nothing is written', async () => {
    const before = await countRecords();
    const read = 'connections(first: $n) { nodes { otherRecord { connections(first: $n) { nodes { label } } } } }';
    const res = await post(JSON.stringify({ query: `mutation($n: Int!) { createRecord(module: "Contacts", fields: { lastName: "Costly" }) { record { ${read} } } }`, variables: { n: 100 } }));
    expectCostRefusal(res);
    expect(await countRecords()).toBe(before);
  });

  test('the same query with $n = 3 runs and answers the real data (the limit does not refuse small pages)', async () => {
    const res = await post(JSON.stringify({ query: NESTED_QUERY, variables: { n: 3 } }));
    expect(res.status).toBe(200);
    expect(res.json.errors).toBeUndefined();
    const b = res.json.data.records.nodes.find((n: { id: string }) => n.id === contactIds[1]);
    expect(b.connections.nodes.map((c: any) => c.otherRecord.label).sort()).toEqual(['Cost A', 'Cost C']);
  });

  test('defaults count: without `first` each list is 20 long, so two aliases of the nested query are refused (one runs)', async () => {
    expect(nestedCost(20)).toBeLessThan(50_000);
    const one = await post(JSON.stringify({ query: `query { ${nested('')} }` }));
    expect(one.json.errors).toBeUndefined();
    const two = await post(JSON.stringify({ query: `query { a: ${nested('')} b: ${nested('')} }` }));
    expect(expectCostRefusal(two)).toBe(2 * nestedCost(20));
    const viaVariableDefault = await post(JSON.stringify({ query: `query($n: Int = 20) { a: ${nested('first: $n')} b: ${nested('first: $n')} }` }));
    expect(expectCostRefusal(viaVariableDefault)).toBe(2 * nestedCost(20));
  });

  test('named fragments and inline fragments cost what the fields inside them cost: refused at the same figure', async () => {
    // (the depth limit counts a fragment as a level, so the fragments sit where the depth allows)
    const named = `query($n: Int!) { records(module: "Contacts", first: $n) { nodes { ...Row } } }
      fragment Row on Record { id label connections(first: $n) { nodes { label otherRecord { id label connections(first: $n) { nodes { label } } } } } }`;
    const inline = `query($n: Int!) { records(module: "Contacts", first: $n) { nodes { id label connections(first: $n) {
      nodes { label otherRecord { ... on Record { id label connections(first: $n) { nodes { label } } } } } } } } }`;
    expect(expectCostRefusal(await post(JSON.stringify({ query: named, variables: { n: 100 } })))).toBe(nestedCost(100));
    expect(expectCostRefusal(await post(JSON.stringify({ query: inline, variables: { n: 100 } })))).toBe(nestedCost(100));
  });

  test('a fragment spread many times is counted every time it is spread (aliases inside a fragment)', async () => {
    const query = `query($n: Int!) { a: records(module: "Contacts", first: $n) { ...Deep } b: records(module: "Contacts", first: $n) { ...Deep } }
      fragment Deep on RecordPage { nodes { x: connections(first: $n) { nodes { otherRecord { connections(first: $n) { nodes { label } } } } }
                                           y: connections(first: $n) { nodes { otherRecord { connections(first: $n) { nodes { label } } } } } } }`;
    // inner connections 5n; otherRecord 2 + 5n; node 4 + 5n; x and y (6 + 5n) × n each; a page (2 + 2 + 2 × (6 + 5n) × n) × n
    const n = 100;
    const refused = expectCostRefusal(await post(JSON.stringify({ query, variables: { n } })));
    expect(refused).toBe(2 * (4 + 2 * (6 + 5 * n) * n) * n);
  });
});

describe('attacker: thousands of filters', () => {
  const filters = (n: number, value = 'x') => Array.from({ length: n }, () => ({ field: 'lastName', operator: 'CONTAINS', value }));
  const RECORDS = 'query($w: [RecordFilterInput!]) { records(module: "Contacts", where: $w) { totalCount nodes { id } } }';

  /** Calls to the pool that touch the records table while `run` runs (the check must come before any of them). */
  async function recordQueriesDuring(run: () => Promise<unknown>): Promise<number> {
    const spy = jest.spyOn(t.app.db.dataSource, 'query');
    try {
      await run();
      return spy.mock.calls.filter(([sql]) => /FROM records/i.test(String(sql))).length;
    } finally {
      spy.mockRestore();
    }
  }

  test(`2,000 filters are refused by the cost (each filter costs ${FILTER_COST}) before any SQL runs`, async () => {
    let res!: Awaited<ReturnType<typeof post>>;
    expect(await recordQueriesDuring(async () => { res = await post(JSON.stringify({ query: RECORDS, variables: { w: filters(2000) } })); })).toBe(0);
    expect(expectCostRefusal(res)).toBeGreaterThanOrEqual(2000 * FILTER_COST);
  });

  test(`${MAX_FILTERS + 1} filters are BAD_USER_INPUT naming where, before any SQL runs; ${MAX_FILTERS} run`, async () => {
    let res!: Awaited<ReturnType<typeof post>>;
    expect(await recordQueriesDuring(async () => { res = await post(JSON.stringify({ query: RECORDS, variables: { w: filters(MAX_FILTERS + 1) } })); })).toBe(0);
    expect(res.json.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'where' });
    expect(res.json.errors[0].message).toBe(`where has ${MAX_FILTERS + 1} filters; at most ${MAX_FILTERS} are allowed.`);
    const allowed = await post(JSON.stringify({ query: RECORDS, variables: { w: filters(MAX_FILTERS, 'Cost') } }));
    expect(allowed.json.errors).toBeUndefined();
    expect(allowed.json.data.records.totalCount).toBe(3);
  });

  test(`a filter value of ${MAX_FILTER_VALUE_LENGTH + 1} characters is refused naming the filter, every bad filter at once`, async () => {
    const where = [{ field: 'lastName', operator: 'CONTAINS', value: 'a'.repeat(MAX_FILTER_VALUE_LENGTH + 1) }, { field: 'title', operator: 'EQUALS', value: 'ok' },
      { field: 'createdAt', operator: 'GREATER_THAN', value: 'yesterday' }];
    let res!: Awaited<ReturnType<typeof post>>;
    expect(await recordQueriesDuring(async () => { res = await post(JSON.stringify({ query: RECORDS, variables: { w: where } })); })).toBe(0);
    expect(res.json.errors).toHaveLength(1);
    expect(res.json.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'where' });
    expect(res.json.errors[0].message).toContain(`where[0].value (on "lastName") is ${MAX_FILTER_VALUE_LENGTH + 1} characters long; at most ${MAX_FILTER_VALUE_LENGTH} are allowed.`);
    expect(res.json.errors[0].message).toContain('GREATER_THAN on "createdAt" needs a date-time value');
    const allowed = await post(JSON.stringify({ query: RECORDS, variables: { w: [{ field: 'lastName', operator: 'CONTAINS', value: 'a'.repeat(MAX_FILTER_VALUE_LENGTH) }] } }));
    expect(allowed.json.errors).toBeUndefined();
  });

  test('fifteen aliases of 50 filters each are refused by the cost', async () => {
    const aliases = Array.from({ length: 15 }, (_, i) => `a${i}: records(module: "Contacts", where: $w, first: 1) { totalCount }`).join('\n');
    const res = await post(JSON.stringify({ query: `query($w: [RecordFilterInput!]) { ${aliases} }`, variables: { w: filters(MAX_FILTERS) } }));
    expect(expectCostRefusal(res)).toBe(15 * ((2 + 1) * 1 + MAX_FILTERS * FILTER_COST));
  });

  test('the server\'s pool connections carry the default statement timeout (5 s)', async () => {
    expect(await t.app.db.dataSource.query('SHOW statement_timeout')).toEqual([{ statement_timeout: '5s' }]);
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
    expect(unknown.status).toBe(REFUSED);
    expect(unknown.json.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const wrongType = await post(JSON.stringify({ query: 'query($n: Int!) { records(module: "Contacts", first: $n) { totalCount } }', variables: { n: 'ten' } }));
    expect(wrongType.status).toBe(REFUSED);
    expect(wrongType.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expectClearError(wrongType.text);
  });

  test('CSRF prevention: a GET query with no header a browser would preflight is refused; Authorization or a preflight header lets it run', async () => {
    const url = `${t.app.graphqlUrl}?query=${encodeURIComponent('{ me { email } }')}`;
    const refused = await fetch(url);
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as any).errors[0].message).toMatch(/Cross-Site Request Forgery/);
    // Authorization is not CORS-safelisted: a browser preflights any cross-site request carrying it (refused below)
    const withKey = await fetch(url, { headers: { authorization: `Bearer ${t.adminKey}` } });
    expect(((await withKey.json()) as any).data.me.email).toBe('admin@countersign.local');
    const preflightHeader = await fetch(url, { headers: { authorization: `Bearer ${t.adminKey}`, 'apollo-require-preflight': 'true' } });
    expect(((await preflightHeader.json()) as any).data.me.email).toBe('admin@countersign.local');
  });

  test('CSRF: the preflight of a cross-site request carrying Authorization gets no CORS allowance (no CORS_ORIGINS set)', async () => {
    const res = await fetch(t.app.graphqlUrl, {
      method: 'OPTIONS',
      headers: { origin: 'https://prize.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('access-control-allow-headers')).toBeNull();
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
