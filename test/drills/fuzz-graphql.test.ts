import fc from 'fast-check';
import { findModule, MODULES } from '../../src/records/modules';
import { checkFields } from '../../src/records/record.validation';
import { startTestServer, type TestServer } from '../support/test-server';

// `npm test` runs a sample; `npm run drills` sets FUZZ_RUNS=10000.
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

let t: TestServer;
let existingId: string;
beforeAll(async () => {
  t = await startTestServer('fuzz_graphql');
  existingId = (await t.gql('mutation { createRecord(module: "Contacts", fields: { lastName: "Fuzz" }) { record { id } } }')).body.data.createRecord.record.id;
});
afterAll(() => t.close());

/** Any JSON, with the awkward parts weighted in: unicode, huge strings, deep nesting, nulls, numbers at the edges. */
const nastyString = fc.oneof(
  fc.string(), fc.fullUnicodeString(), fc.constantFrom('', ' ', '\u0000', '\ud800', '<script>', "'; DROP TABLE records; --", '%_\\', 'NaN', '1e309'),
  fc.string({ minLength: 300, maxLength: 3000 }),
);
const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' },
    nastyString, fc.integer(), fc.double(), fc.boolean(), fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(nastyString, fc.constantFrom('lastName', 'email', 'stage', 'amount', 'organizationId', 'OTPRULES_OTP_1')), tie('value'), { maxKeys: 5 })),
})).value;
const moduleName = fc.oneof(fc.constantFrom(...MODULES.map((m) => m.name)), nastyString);
const idLike = fc.oneof(fc.uuid(), nastyString, fc.constant('existing'), fc.constant('EXISTING')).map((id) => (id === 'existing' ? existingId : id === 'EXISTING' ? existingId.toUpperCase() : id));

const operations = fc.oneof(
  fc.record({ module: moduleName, fields: jsonValue }).map((v) => ({ query: 'mutation($module: String!, $fields: JSONObject!) { createRecord(module: $module, fields: $fields) { record { id } userErrors { code } } }', variables: v })),
  fc.record({ id: idLike, fields: jsonValue, expectedVersion: fc.oneof(fc.integer(), fc.constant(null), nastyString) }).map((v) => ({ query: 'mutation($id: ID!, $fields: JSONObject!, $expectedVersion: Int) { updateRecord(id: $id, fields: $fields, expectedVersion: $expectedVersion) { record { id } userErrors { code } } }', variables: v })),
  fc.record({ module: moduleName, first: fc.oneof(fc.integer(), nastyString), after: fc.oneof(nastyString, fc.constant(null)), where: jsonValue, orderBy: jsonValue }).map((v) => ({ query: 'query($module: String!, $first: Int!, $after: String, $where: [RecordFilterInput!], $orderBy: RecordOrderInput) { records(module: $module, first: $first, after: $after, where: $where, orderBy: $orderBy) { totalCount nodes { id } } }', variables: v })),
  fc.record({ rows: fc.array(jsonValue, { maxLength: 5 }), module: moduleName }).map((v) => ({ query: 'mutation($module: String!, $rows: [JSONObject!]!) { importRecords(module: $module, rows: $rows) { importedCount } }', variables: v })),
  fc.record({ query: nastyString, variables: jsonValue }),
);

const STACK = /\bat .+\.(js|ts):\d+|node_modules|stacktrace/i;

test(`${RUNS} generated GraphQL requests each get a well-formed answer, never a 500, a stack or a bad write`, async () => {
  await fc.assert(fc.asyncProperty(operations, async (body) => {
    const res = await fetch(t.app.graphqlUrl, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${t.adminKey}` }, body: JSON.stringify(body),
    });
    const text = await res.text();
    expect([200, 400, 413]).toContain(res.status);
    const json = JSON.parse(text);
    expect(typeof json).toBe('object');
    expect(text).not.toMatch(STACK);
    for (const error of json.errors ?? []) {
      expect(typeof error.message).toBe('string');
      expect(error.extensions?.code).not.toBe('INTERNAL_SERVER_ERROR');
    }
  }), { numRuns: RUNS });

  // Whatever was accepted is valid: every stored record passes its module's validation.
  const rows = await t.sql('SELECT module, fields FROM records');
  for (const row of rows) expect(checkFields(findModule(row.module)!, {}, row.fields).errors).toEqual([]);
});
