import { serverAudits } from 'graphql-http';
import { startTestServer, type TestServer } from '../support/test-server';

// The GraphQL-over-HTTP spec's audits (graphql-http) run against the real /graphql, as any spec-following client
// or gateway would call it: with a valid API key, so that what is audited is the protocol and not our auth.
let t: TestServer;
beforeAll(async () => { t = await startTestServer('graphql_over_http'); });
afterAll(() => t.close());

const withKey = (input: string | URL | Request, init: RequestInit = {}) => {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${t.adminKey}`);
  return fetch(input, { ...init, headers });
};

describe('a spec-following GraphQL-over-HTTP client or gateway calls /graphql', () => {
  for (const audit of serverAudits({ url: () => t.app.graphqlUrl, fetchFn: withKey })) {
    test(`${audit.id} ${audit.name}`, async () => {
      const result = await audit.fn();
      const failure = result.status === 'ok' ? null : { status: result.status, reason: result.reason, response: result.response.status };
      expect(failure).toBeNull();
    });
  }
});

describe('status codes by media type: a client that reads only the body, and one that reads the status', () => {
  const JSON_ONLY = 'application/json';
  const GRAPHQL_RESPONSE = 'application/graphql-response+json';
  async function post(body: string, accept: string, key: string | null = t.adminKey) {
    const res = await fetch(t.app.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept, ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body,
    });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type'), json: JSON.parse(text) };
  }
  const refusedBeforeRunning: Array<[string, string, Record<string, unknown> | undefined, string]> = [
    ['a document that does not parse', '{ me { email }', undefined, 'GRAPHQL_PARSE_FAILED'],
    ['an unknown field', '{ me { shoeSize } }', undefined, 'GRAPHQL_VALIDATION_FAILED'],
    ['a variable of the wrong type', 'query($n: Int!) { records(module: "Contacts", first: $n) { totalCount } }', { n: 'ten' }, 'BAD_USER_INPUT'],
    ['16 aliases (our alias limit)', `{ ${Array.from({ length: 16 }, (_, i) => `a${i}: me { email }`).join(' ')} }`, undefined, 'GRAPHQL_VALIDATION_FAILED'],
    ['a control character in a text argument', '{ records(module: "Contacts\\u0000") { totalCount } }', undefined, 'BAD_USER_INPUT'],
    ['an operation name the document lacks', '{ me { email } }', undefined, 'OPERATION_RESOLUTION_FAILURE'],
  ];
  test.each(refusedBeforeRunning)('%s: 200 for application/json, 400 for application/graphql-response+json, never a data entry', async (_what, query, variables, code) => {
    const body = JSON.stringify({ query, variables, ...(code === 'OPERATION_RESOLUTION_FAILURE' ? { operationName: 'Missing' } : {}) });
    const plain = await post(body, JSON_ONLY);
    expect([plain.status, plain.type, plain.json.errors[0].extensions.code]).toEqual([200, 'application/json; charset=utf-8', code]);
    expect(plain.json).not.toHaveProperty('data');
    const strict = await post(body, GRAPHQL_RESPONSE);
    expect([strict.status, strict.type, strict.json.errors[0].extensions.code]).toEqual([400, 'application/graphql-response+json; charset=utf-8', code]);
    expect(strict.json).not.toHaveProperty('data');
  });

  test('no key: 401 UNAUTHENTICATED for either media type', async () => {
    for (const accept of [JSON_ONLY, GRAPHQL_RESPONSE]) {
      const res = await post(JSON.stringify({ query: '{ me { email } }' }), accept, null);
      expect([res.status, res.json.errors[0].extensions.code]).toEqual([401, 'UNAUTHENTICATED']);
    }
  });

  test('a body that is not JSON, or not a GraphQL request: 400 BAD_REQUEST for either media type', async () => {
    for (const accept of [JSON_ONLY, GRAPHQL_RESPONSE]) {
      expect((await post('{"query": ', accept)).status).toBe(400);
      const noQuery = await post(JSON.stringify({ variables: {} }), accept);
      expect([noQuery.status, noQuery.json.errors[0].extensions.code]).toEqual([400, 'BAD_REQUEST']);
    }
  });

  test('a role too low (FORBIDDEN) is a field error of an operation that ran: 200 with data for either media type', async () => {
    const { key } = await t.keyFor('READONLY');
    for (const accept of [JSON_ONLY, GRAPHQL_RESPONSE]) {
      const res = await post(JSON.stringify({ query: 'mutation { createUser(input: { email: "x@example.com", name: "X", role: ADMIN }) { user { id } } }' }), accept, key);
      expect([res.status, res.json.data, res.json.errors[0].extensions.code]).toEqual([200, null, 'FORBIDDEN']);
    }
  });

  test('a field error in an operation that ran keeps 200 and its data for either media type', async () => {
    for (const accept of [JSON_ONLY, GRAPHQL_RESPONSE]) {
      const res = await post(JSON.stringify({ query: '{ me { email } records(module: "Contacts", first: 0) { totalCount } }' }), accept);
      expect(res.status).toBe(200);
      expect(res.json.data).toEqual(null);
      expect(res.json.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    }
  });
});
