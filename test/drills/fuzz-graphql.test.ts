import fc from 'fast-check';
import { findModule, MODULES } from '../../src/records/modules';
import { checkFields } from '../../src/records/record.validation';
import { createRecord } from '../support/api';
import { startTestServer, type TestServer } from '../support/test-server';
import { SYSTEM } from '../connections/helpers';

// `npm run drills:ci` runs a sample; `npm run drills` sets FUZZ_RUNS=10000.
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

let t: TestServer;
let existingId: string;
let otherId: string;
beforeAll(async () => {
  t = await startTestServer('fuzz_graphql');
  existingId = (await createRecord(t, 'Contacts', { lastName: 'Fuzz' })).id;
  otherId = (await createRecord(t, 'Contacts', { lastName: 'Other' })).id;
  await t.gql(`mutation { createConnection(input: { typeId: "${SYSTEM.knows}", sourceId: "${existingId}", targetId: "${otherId}" }) { connection { id } } }`);
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

// Issue 17.11: the shapes that reached Postgres and came back as 500s with its own words. Dates in every date and
// number filter, forged cursors on every list, control characters in every text field.
const LEAK = /Internal server error|invalid input syntax|out of range|invalid byte sequence|unsupported Unicode|surrogate must|canceling statement|syntax error at|violates|relation "|column "|QueryFailedError/i;
/** The safety net's message (src/app/errors.ts): seeing it means a value reached Postgres that a check should have stopped. */
const SAFETY_NET = /cannot be stored or compared/;

const controlCharacter = fc.oneof(
  fc.integer({ min: 0, max: 0x1f }).filter((c) => c !== 9 && c !== 10 && c !== 13).map((c) => String.fromCharCode(c)),
  fc.constantFrom('\u0000', '\u007f', '\ud800', '\udfff', '\u001b[2J'),
);
const withControl = fc.tuple(fc.string({ maxLength: 20 }), controlCharacter, fc.string({ maxLength: 20 })).map(([a, c, b]) => `${a}${c}${b}`);
const text = fc.oneof(withControl, withControl, nastyString);
const dateLike = fc.oneof(
  fc.constantFrom('1', '0', '-1', '2024-13-01', '2024-02-30', '2023-02-29', '99999-01-01', '0000-01-01', '2024-05-01T24:00:00Z', '2024-05-01T10:60',
    '2024-05-01T10:00:00+16:00', 'now', 'today', 'epoch', 'infinity', '-infinity', 'allballs', 'Tue, 1 May 2024', '1e10', '', '2024-05-01', '2024-05-01 10:00:00.123456+00'),
  fc.date({ min: new Date(-1e14), max: new Date(1e14) }).filter((d) => !Number.isNaN(d.getTime())).map((d) => d.toISOString()),
  fc.integer(), fc.double(), fc.boolean(), fc.constant(null), text,
  fc.tuple(fc.integer({ min: 0, max: 99999 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 })).map(([y, m, d]) => `${y}-${m}-${d}`),
);
const filterValue = fc.oneof(dateLike, fc.integer(), fc.double(), fc.constantFrom(1e308, -1e308, Number.MAX_SAFE_INTEGER), fc.string({ minLength: 900, maxLength: 1100 }));
const filters = fc.array(fc.record({
  field: fc.constantFrom('createdAt', 'updatedAt', 'birthday', 'lastName', 'doNotCall', 'amount', 'closeDate', 'employees', 'label'),
  operator: fc.constantFrom('EQUALS', 'NOT_EQUALS', 'CONTAINS', 'STARTS_WITH', 'GREATER_THAN', 'LESS_THAN', 'IS_EMPTY', 'IS_NOT_EMPTY'),
  value: filterValue,
}), { maxLength: 4 });
const cursorPart = fc.oneof(dateLike, fc.uuid(), fc.constantFrom('9'.repeat(2000), '-Infinity', 'NaN', 'DUPLICATE'), fc.array(fc.integer(), { maxLength: 2 }));
const cursor = fc.oneof(
  fc.array(cursorPart, { minLength: 0, maxLength: 3 }).map((parts) => Buffer.from(JSON.stringify(parts)).toString('base64url')),
  fc.tuple(dateLike, fc.uuid()).map((parts) => Buffer.from(JSON.stringify(parts)).toString('base64url')),
  nastyString,
);
const order = fc.record({ field: fc.constantFrom('createdAt', 'updatedAt', 'lastName', 'birthday', 'doNotCall', 'employees', 'label', 'nope'), direction: fc.constantFrom('ASC', 'DESC') });
const lists = fc.oneof(
  fc.record({ m: fc.constantFrom('Contacts', 'Deals', 'Organizations'), w: filters, o: fc.option(order), a: fc.option(cursor) })
    .map((v) => ({ query: 'query($m: String!, $w: [RecordFilterInput!], $o: RecordOrderInput, $a: String) { records(module: $m, where: $w, orderBy: $o, after: $a, first: 3) { totalCount nodes { id } pageInfo { endCursor } } }', variables: v })),
  fc.record({ a: cursor, s: fc.option(text) }).map((v) => ({ query: 'query($a: String, $s: String) { otpRequests(after: $a, filter: { source: $s }) { totalCount } }', variables: v })),
  fc.record({ a: cursor }).map((v) => ({ query: 'query($a: String) { connections(after: $a) { totalCount } }', variables: v })),
  fc.record({ a: cursor }).map((v) => ({ query: 'query($id: ID!, $a: String) { record(id: $id) { connections(after: $a) { totalCount } } }', variables: { ...v, id: existingId } })),
  fc.record({ a: cursor }).map((v) => ({ query: 'query($a: String) { connectionIntegrityReport(after: $a) { totalCount } }', variables: v })),
);
const fieldNames = fc.constantFrom('lastName', 'firstName', 'title', 'email', 'mobile', 'birthday', 'name', 'description');
const textFields = fc.oneof(
  fc.record({ m: fc.constantFrom('Contacts', 'Cases', 'Organizations'), f: fc.dictionary(fc.oneof(fieldNames, withControl), text, { minKeys: 1, maxKeys: 3 }) })
    .map((v) => ({ query: 'mutation($m: String!, $f: JSONObject!) { createRecord(module: $m, fields: $f) { record { id } userErrors { code } } }', variables: v })),
  fc.record({ f: fc.dictionary(fieldNames, text, { minKeys: 1, maxKeys: 3 }) })
    .map((v) => ({ query: 'mutation($id: ID!, $f: JSONObject!) { updateRecord(id: $id, fields: $f) { record { id } userErrors { code } } }', variables: { ...v, id: existingId } })),
  fc.record({ rows: fc.array(fc.dictionary(fieldNames, text, { maxKeys: 2 }), { minLength: 1, maxLength: 3 }) })
    .map((v) => ({ query: 'mutation($rows: [JSONObject!]!) { importRecords(module: "Contacts", rows: $rows) { importedCount } }', variables: v })),
  fc.record({ notes: fc.option(text), properties: fc.option(fc.dictionary(fc.oneof(fc.string(), withControl), text, { maxKeys: 2 })) })
    .map((v) => ({ query: 'mutation($i: CreateConnectionInput!) { createConnection(input: $i) { connection { id } userErrors { code } } }', variables: { i: { typeId: SYSTEM.knows, sourceId: otherId, targetId: existingId, ...v } } })),
  fc.record({ name: text, inverseName: fc.option(text) })
    .map((v) => ({ query: 'mutation($i: CreateConnectionTypeInput!) { createConnectionType(input: $i) { connectionType { id } userErrors { code } } }', variables: { i: { sourceModules: ['Contacts'], targetModules: ['Contacts'], ...v } } })),
  fc.record({ name: text, description: fc.option(text) })
    .map((v) => ({ query: 'mutation($i: OtpRuleInput!) { createOtpRule(input: $i) { otpRule { id } userErrors { code } } }', variables: { i: { module: 'Contacts', ...v } } })),
  fc.record({ id: fc.oneof(fc.stringMatching(/^[a-z_]{3,20}$/), text), body: text, subject: fc.option(text) })
    .map((v) => ({ query: 'mutation($i: CreateMessageTemplateInput!) { createMessageTemplate(input: $i) { messageTemplate { id } userErrors { code } } }', variables: { i: { channel: 'EMAIL', ...v } } })),
  fc.record({ name: text, profile: fc.option(text), email: fc.oneof(fc.emailAddress(), text) })
    .map((v) => ({ query: 'mutation($i: CreateUserInput!) { createUser(input: $i) { user { id } userErrors { code } } }', variables: { i: { role: 'READONLY', ...v } } })),
  fc.record({ name: text })
    .map((v) => ({ query: 'mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { key userErrors { code } } }', variables: { i: { userId: '00000000-0000-4000-8000-000000000001', ...v } } })),
);

test(`${RUNS} generated dates, cursors and control characters (issue 17.11) are refused or answered, never a 500 or a database message`, async () => {
  const seen: Record<string, number> = {};
  await fc.assert(fc.asyncProperty(fc.oneof(lists, textFields), async (body) => {
    const res = await fetch(t.app.graphqlUrl, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${t.adminKey}` }, body: JSON.stringify(body),
    });
    const answer = await res.text();
    expect([200, 400]).toContain(res.status);
    expect(answer).not.toMatch(STACK);
    expect(answer).not.toMatch(LEAK);
    expect(answer).not.toMatch(SAFETY_NET);
    const json = JSON.parse(answer);
    for (const error of json.errors ?? []) {
      expect(error.extensions?.code).not.toBe('INTERNAL_SERVER_ERROR');
      // a refusal names what is wrong: the variable (GraphQL's own message), the argument, or the validated fields
      if (error.extensions?.code === 'BAD_USER_INPUT' && !/^Variable "\$/.test(error.message)) {
        expect(error.extensions.argumentName ?? error.extensions.validationErrors?.[0]?.field).toEqual(expect.any(String));
      }
    }
    const outcome = `${res.status}:${json.errors?.[0]?.extensions?.code ?? 'ok'}`;
    seen[outcome] = (seen[outcome] ?? 0) + 1;
  }), { numRuns: RUNS });
  console.log(`17.11 fuzz: ${RUNS} requests, outcomes ${JSON.stringify(seen)}`);

  // Nothing with a forbidden character was stored anywhere a client can write text.
  const stored = await t.sql(`SELECT fields::text AS v FROM records UNION ALL SELECT coalesce(notes, '') || properties::text FROM connections
    UNION ALL SELECT name || coalesce(inverse_name, '') FROM connection_types UNION ALL SELECT name || description FROM otp_rules
    UNION ALL SELECT body || coalesce(subject, '') || coalesce(html_body, '') FROM message_templates UNION ALL SELECT name || profile FROM users UNION ALL SELECT name FROM api_keys`);
  for (const row of stored) expect(row.v ?? '').not.toMatch(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]|\\u00[01][0-9a-fA-F]/);
}, Math.max(60_000, RUNS * 40));
