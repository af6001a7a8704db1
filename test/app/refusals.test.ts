import { createRecord } from '../support/api';
import { startTestServer, type TestServer } from '../support/test-server';

// Services throw RequestRefused (core/errors) and the API edge (app/errors.ts, the REST router) words it. A client
// sees exactly these bytes and statuses whoever throws; this pins them, so moving where an error is made never
// changes what a client parses.
let t: TestServer;
let readonlyKey: string;
let recordId: string;
beforeAll(async () => {
  t = await startTestServer('refusals');
  readonlyKey = (await t.keyFor('READONLY')).key;
  recordId = (await createRecord(t, 'Contacts', { firstName: 'Ada', lastName: 'Lovelace' })).id;
});
afterAll(() => t.close());

async function raw(path: string, body: unknown, key: string | null): Promise<{ status: number; text: string }> {
  const res = await fetch(`${t.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}
const graphql = (query: string, variables: Record<string, unknown> = {}, key: string | null = t.adminKey) => raw('/graphql', { query, variables }, key);
const error = (message: string, path: string, column: number, extensions: Record<string, unknown>) => JSON.stringify({
  errors: [{ message, locations: [{ line: 1, column }], path: [path], extensions }], data: null,
});

describe('a caller without credentials', () => {
  test('no Authorization header: 401 UNAUTHENTICATED, the same bytes as ever', async () => {
    expect(await graphql('{ modules { name } }', {}, null)).toEqual({
      status: 401,
      text: JSON.stringify({ errors: [{ message: 'Authentication required: send "Authorization: Bearer <API key or JWT>".', extensions: { code: 'UNAUTHENTICATED' } }] }) + '\n',
    });
  });

  test('a key that does not exist: 401 UNAUTHENTICATED', async () => {
    expect(await graphql('{ modules { name } }', {}, 'cs_00000000_nope')).toEqual({
      status: 401,
      text: JSON.stringify({ errors: [{ message: 'The API key is unknown, revoked or expired.', extensions: { code: 'UNAUTHENTICATED' } }] }) + '\n',
    });
  });

  test('the REST door, no key: 401 in the partner\'s shape', async () => {
    expect(await raw('/api/send-otp', { mobile_no: '9123456780' }, null)).toEqual({
      status: 401,
      text: JSON.stringify({ status: false, message: 'Authentication required: send "Authorization: Bearer <API key or JWT>".' }),
    });
  });
});

describe('a caller forging arguments', () => {
  test('a cursor this API never issued: BAD_USER_INPUT naming `after`', async () => {
    expect(await graphql('{ records(module: "Contacts", after: "garbage") { totalCount } }')).toEqual({
      status: 200,
      text: error('The `after` cursor is not one this API issued.', 'records', 3, { code: 'BAD_USER_INPUT', argumentName: 'after' }) + '\n',
    });
  });

  test('filters on fields the module lacks: one BAD_USER_INPUT naming `where`, every bad filter in its message', async () => {
    const where = [{ field: 'nope', operator: 'EQUALS', value: 1 }, { field: 'alsoNope', operator: 'EQUALS', value: 2 }];
    expect(await graphql('query($where: [RecordFilterInput!]) { records(module: "Contacts", where: $where) { totalCount } }', { where })).toEqual({
      status: 200,
      text: error('Contacts has no field "nope" to filter by. Contacts has no field "alsoNope" to filter by.', 'records', 39, { code: 'BAD_USER_INPUT', argumentName: 'where' }) + '\n',
    });
  });

  test('connection types of a module that cannot be connected: BAD_USER_INPUT naming `module`', async () => {
    expect(await graphql('{ connectionTypes(filter: { module: "Nope" }) { nodes { id } } }')).toEqual({
      status: 200,
      text: error('"Nope" cannot be connected; the modules are Leads, Contacts, Organizations, Vendors.', 'connectionTypes', 3, { code: 'BAD_USER_INPUT', argumentName: 'module' }) + '\n',
    });
  });

  test('a record\'s connections to a module that does not exist: BAD_USER_INPUT naming `filter`', async () => {
    const res = await graphql('query($id: ID!) { record(id: $id) { connections(filter: { otherModule: "Nope" }) { totalCount } } }', { id: recordId });
    expect(res).toEqual({
      status: 200,
      text: JSON.stringify({
        errors: [{ message: 'There is no module "Nope".', locations: [{ line: 1, column: 37 }], path: ['record', 'connections'], extensions: { code: 'BAD_USER_INPUT', argumentName: 'filter' } }],
        data: { record: null },
      }) + '\n',
    });
  });
});

describe('a read-only caller sending OTPs', () => {
  test('GraphQL: top-level FORBIDDEN, nothing else in extensions', async () => {
    expect(await graphql('mutation { sendOtp(input: { mobileNo: "9123456780", channels: [SMS], source: "crm", type: "simple_otp" }) { userErrors { code } } }', {}, readonlyKey)).toEqual({
      status: 200,
      text: error('This user may not send or verify OTPs (read-only role).', 'sendOtp', 12, { code: 'FORBIDDEN' }) + '\n',
    });
  });

  test('REST: 403 in the partner\'s shape', async () => {
    expect(await raw('/api/send-otp', { mobile_no: '9123456780' }, readonlyKey)).toEqual({
      status: 403,
      text: JSON.stringify({ status: false, message: 'This user may not send or verify OTPs (read-only role).' }),
    });
  });
});

describe('a caller reusing an idempotency key for another request', () => {
  const create = (lastName: string, key: string) => graphql('mutation($f: JSONObject!, $k: String) { createRecord(module: "Contacts", fields: $f, idempotencyKey: $k) { userErrors { code } } }',
    { f: { lastName }, k: key });

  test('GraphQL: IDEMPOTENCY_KEY_REUSED naming `idempotencyKey`', async () => {
    expect((await create('Once', 'refusals-key-1')).status).toBe(200);
    expect(await create('Twice', 'refusals-key-1')).toEqual({
      status: 200,
      text: error('This idempotency key was already used with a different request. Use a new key for a new request.', 'createRecord', 41,
        { code: 'IDEMPOTENCY_KEY_REUSED', argumentName: 'idempotencyKey' }) + '\n',
    });
  });

  test('GraphQL: a key past 255 characters is BAD_USER_INPUT naming `idempotencyKey`', async () => {
    expect(await create('Long', 'k'.repeat(256))).toEqual({
      status: 200,
      text: error('The idempotency key must be 1-255 printable ASCII characters (space to ~).', 'createRecord', 41,
        { code: 'BAD_USER_INPUT', argumentName: 'idempotencyKey' }) + '\n',
    });
  });
});
