import { SYSTEM } from '../connections/helpers';
import { createConnection, createRecord } from '../support/api';
import { startTestServer, type TestServer } from '../support/test-server';

/**
 * Input Postgres cannot read (a date like "1", a forged cursor, a NUL) used to reach it and come back as a 500 with
 * Postgres' own words. Each shape is now refused before any SQL, as BAD_USER_INPUT naming the argument.
 */
let t: TestServer;
let contactId: string;
let otherId: string;
beforeAll(async () => {
  t = await startTestServer('bad_input');
  const create = async (lastName: string) => (await createRecord(t, 'Contacts', { lastName })).id;
  contactId = await create('Input');
  otherId = await create('Other');
  const linked = await createConnection(t, { typeId: SYSTEM.knows, sourceId: contactId, targetId: otherId });
  expect(linked.userErrors).toEqual([]);
});
afterAll(() => t.close());

const INTERNAL = /Internal server error|INTERNAL_SERVER_ERROR|invalid input syntax|out of range|invalid byte sequence|unsupported Unicode|surrogate must|stacktrace|\bat .+\.(js|ts):\d+/i;

function expectBadInput(res: { status: number; body: any }, argumentName: string, message?: RegExp | string) {
  const text = JSON.stringify(res.body);
  expect(text).not.toMatch(INTERNAL);
  expect(res.body.errors).toHaveLength(1);
  expect(res.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName });
  if (message) expect(res.body.errors[0].message).toMatch(message);
}

const RECORDS = 'query($m: String!, $w: [RecordFilterInput!], $o: RecordOrderInput, $a: String) { records(module: $m, where: $w, orderBy: $o, after: $a) { totalCount nodes { id } } }';

describe('attacker: dates and numbers Postgres cannot read, in records(where:)', () => {
  test.each([
    ['createdAt', 'GREATER_THAN', '1'],
    ['createdAt', 'LESS_THAN', '2024-13-01'],
    ['createdAt', 'GREATER_THAN', '2024-02-30'],
    ['createdAt', 'EQUALS', '2023-02-29T10:00:00Z'],
    ['createdAt', 'GREATER_THAN', '99999-01-01'],
    ['createdAt', 'GREATER_THAN', '2024-05-01T25:00:00Z'],
    ['createdAt', 'GREATER_THAN', '2024-05-01T10:00:00+99:00'],
    ['updatedAt', 'LESS_THAN', 'tomorrow'],
    ['updatedAt', 'NOT_EQUALS', 20240501],
    ['createdAt', 'GREATER_THAN', 'Tue, 1 May 2024'],
  ])('%s %s %j is BAD_USER_INPUT naming where and the field', async (field, operator, value) => {
    const res = await t.gql(RECORDS, { m: 'Contacts', w: [{ field, operator, value }] });
    expectBadInput(res, 'where', new RegExp(`${operator} on "${field}" needs a date-time value`));
  });

  test.each([
    ['Contacts', 'birthday', 'GREATER_THAN', 'x', /needs a date as YYYY-MM-DD/],
    ['Contacts', 'birthday', 'LESS_THAN', '2024-02-30', /needs a date as YYYY-MM-DD/],
    ['Deals', 'amount', 'GREATER_THAN', '5', /needs a numeric value/],
    ['Deals', 'closeDate', 'EQUALS', 1, /needs a date as YYYY-MM-DD/],
    ['Contacts', 'doNotCall', 'EQUALS', 'yes', /needs a boolean value/],
  ])('%s.%s %s %j is BAD_USER_INPUT', async (m, field, operator, value, message) => {
    expectBadInput(await t.gql(RECORDS, { m, w: [{ field, operator, value }] }), 'where', message);
  });

  test('well-formed dates are read in UTC unless they carry an offset, in ISO 8601 or Postgres\' own form', async () => {
    const [row] = await t.sql('SELECT created_at FROM records WHERE id = $1', [contactId]);
    const created = (row.created_at as Date).toISOString();
    const before = new Date(Date.parse(created) - 60_000);
    const pad = (n: number) => String(n).padStart(2, '0');
    const shifted = new Date(before.getTime() + 5.5 * 3600_000); // the same instant written at +05:30
    const forms = [
      before.toISOString(),
      before.toISOString().replace('T', ' ').replace('Z', '+00'),
      `${shifted.toISOString().slice(0, 19)}+05:30`,
      `${before.getUTCFullYear()}-${pad(before.getUTCMonth() + 1)}-${pad(before.getUTCDate())}T${pad(before.getUTCHours())}:${pad(before.getUTCMinutes())}`,
    ];
    for (const value of forms) {
      const res = await t.gql(RECORDS, { m: 'Contacts', w: [{ field: 'createdAt', operator: 'GREATER_THAN', value }, { field: 'lastName', operator: 'EQUALS', value: 'Input' }] });
      expect({ value, body: res.body }).toEqual({ value, body: { data: { records: { totalCount: 1, nodes: [{ id: contactId }] } } } });
    }
    const dateOnly = await t.gql(RECORDS, { m: 'Contacts', w: [{ field: 'createdAt', operator: 'LESS_THAN', value: '2000-01-01' }] });
    expect(dateOnly.body.data.records.totalCount).toBe(0);
  });
});

describe('attacker: forged `after` cursors on every list', () => {
  const UUID = '00000000-0000-4000-8000-0000000000aa';
  const forge = (parts: unknown) => Buffer.from(JSON.stringify(parts)).toString('base64url');
  const badDates = ['2024-13-45T99:99:99Z', '1', '2024-02-30 10:00:00+00', 'Tuesday', 12345, '2024-05-01T10:00:00.000000Z\u0000'];

  const lists: Array<[string, string, Record<string, unknown>, unknown[]]> = [
    ['records (by createdAt)', RECORDS, { m: 'Contacts' }, badDates.map((d) => [d, UUID])],
    ['records (by a text field)', RECORDS, { m: 'Contacts', o: { field: 'lastName', direction: 'ASC' } }, [['a\u0000', UUID], [['a'], UUID]]],
    ['records (by a number field)', RECORDS, { m: 'Organizations', o: { field: 'employees', direction: 'ASC' } }, [['9'.repeat(200_000), UUID], ['1e5', UUID], ['NaN', UUID]]],
    ['records (by a boolean field)', RECORDS, { m: 'Contacts', o: { field: 'doNotCall', direction: 'ASC' } }, [['2', UUID], [true, UUID]]],
    ['otpRequests', 'query($a: String) { otpRequests(after: $a) { totalCount } }', {}, badDates.map((d) => [d, UUID])],
    ['connections', 'query($a: String) { connections(after: $a) { totalCount } }', {}, [['2024-13-45T99:99:99.000000Z', UUID], ['2024-02-30T10:00:00.000000Z', UUID], ['1', UUID]]],
    ['Record.connections', `query($a: String) { record(id: "RECORD") { connections(after: $a) { totalCount } } }`, {}, [['2024-13-45T99:99:99.000000Z', UUID], ['2023-02-29T00:00:00.000000Z', UUID]]],
    ['connectionIntegrityReport', 'query($a: String) { connectionIntegrityReport(after: $a) { totalCount } }', {}, [[UUID, 'NOPE'], ['x', 'DUPLICATE']]],
  ];

  test.each(lists)('%s: malformed positions are BAD_USER_INPUT naming after', async (_label, query, variables, positions) => {
    const cursors = [...positions.map(forge), 'not a cursor', forge(['only one part']), Buffer.from('{"a":1}').toString('base64url')];
    for (const a of cursors) {
      const res = await t.gql(query.replace('RECORD', contactId), { ...variables, a });
      expectBadInput(res, 'after', 'The `after` cursor is not one this API issued.');
    }
  });

  test('cursors the API issued still page (records by createdAt, Record.connections)', async () => {
    const first = await t.gql('{ records(module: "Contacts", first: 1) { pageInfo { endCursor } } }');
    const next = await t.gql(RECORDS, { m: 'Contacts', a: first.body.data.records.pageInfo.endCursor });
    expect(next.body.errors).toBeUndefined();
    expect(next.body.data.records.nodes).toHaveLength(1);
    const conns = await t.gql(`{ record(id: "${contactId}") { connections(first: 1) { pageInfo { endCursor } } } }`);
    const after = await t.gql(`query($a: String) { record(id: "${contactId}") { connections(after: $a) { totalCount nodes { label } } } }`, { a: conns.body.data.record.connections.pageInfo.endCursor });
    expect(after.body).toEqual({ data: { record: { connections: { totalCount: 1, nodes: [] } } } });
  });
});

describe('attacker: control characters in text fields', () => {
  const counts = async () => (await t.sql(`SELECT (SELECT count(*) FROM records)::int AS records, (SELECT count(*) FROM connections)::int AS connections,
    (SELECT count(*) FROM connection_types)::int AS types, (SELECT count(*) FROM otp_rules)::int AS rules, (SELECT count(*) FROM message_templates)::int AS templates,
    (SELECT count(*) FROM users)::int AS users, (SELECT count(*) FROM api_keys)::int AS keys, (SELECT count(*) FROM otp_requests)::int AS otps`))[0];

  const cases: Array<[string, string, () => Record<string, unknown>, Array<{ field: string; argument: string; character: string }>]> = [
    ['a NUL in a record field', 'mutation($f: JSONObject!) { createRecord(module: "Contacts", fields: $f) { record { id } } }',
      () => ({ f: { lastName: 'a\u0000b', title: 'ok\tline\nnext' } }), [{ field: 'createRecord', argument: 'fields.lastName', character: 'U+0000' }]],
    ['an escape sequence and a bell in two record fields (both reported)', 'mutation($id: ID!, $f: JSONObject!) { updateRecord(id: $id, fields: $f) { record { id } } }',
      () => ({ id: contactId, f: { title: '\u001b[31mred', firstName: 'ding\u0007' } }),
      [{ field: 'updateRecord', argument: 'fields.title', character: 'U+001B' }, { field: 'updateRecord', argument: 'fields.firstName', character: 'U+0007' }]],
    ['a NUL in a field name', 'mutation($f: JSONObject!) { createRecord(module: "Contacts", fields: $f) { record { id } } }',
      () => ({ f: { lastName: 'x', 'bad\u0000key': 'x' } }), [{ field: 'createRecord', argument: 'fields (a key)', character: 'U+0000' }]],
    ['an unpaired surrogate in an imported row', 'mutation($rows: [JSONObject!]!) { importRecords(module: "Contacts", rows: $rows) { importedCount } }',
      () => ({ rows: [{ lastName: 'fine' }, { lastName: 'half \ud800 pair' }] }), [{ field: 'importRecords', argument: 'rows[1].lastName', character: 'U+D800' }]],
    ['a NUL in a connection\'s notes and properties', 'mutation($i: CreateConnectionInput!) { createConnection(input: $i) { connection { id } } }',
      () => ({ i: { typeId: SYSTEM.knows, sourceId: otherId, targetId: contactId, notes: 'met\u0000', properties: { since: '\u0000' } } }),
      [{ field: 'createConnection', argument: 'input.properties.since', character: 'U+0000' }, { field: 'createConnection', argument: 'input.notes', character: 'U+0000' }]],
    ['a form feed in a connection type\'s name', 'mutation($i: CreateConnectionTypeInput!) { createConnectionType(input: $i) { connectionType { id } } }',
      () => ({ i: { name: 'Mentor\u000c', inverseName: 'Mentee', sourceModules: ['Contacts'], targetModules: ['Contacts'] } }),
      [{ field: 'createConnectionType', argument: 'input.name', character: 'U+000C' }]],
    ['a NUL in an OTP rule\'s name and description', 'mutation($i: OtpRuleInput!) { createOtpRule(input: $i) { otpRule { id } } }',
      () => ({ i: { name: 'Rule\u0000', module: 'Contacts', description: 'd\u0001' } }),
      [{ field: 'createOtpRule', argument: 'input.name', character: 'U+0000' }, { field: 'createOtpRule', argument: 'input.description', character: 'U+0001' }]],
    ['a NUL in a message template body', 'mutation($i: CreateMessageTemplateInput!) { createMessageTemplate(input: $i) { messageTemplate { id } } }',
      () => ({ i: { id: 'nul_template', channel: 'SMS', body: 'Code {{otp}}\u0000' } }), [{ field: 'createMessageTemplate', argument: 'input.body', character: 'U+0000' }]],
    ['a NUL in a user\'s name', 'mutation($i: CreateUserInput!) { createUser(input: $i) { user { id } } }',
      () => ({ i: { email: 'nul@example.com', name: 'N\u0000L', role: 'USER' } }), [{ field: 'createUser', argument: 'input.name', character: 'U+0000' }]],
    ['a NUL in an API key\'s name', 'mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { key } }',
      () => ({ i: { userId: '00000000-0000-4000-8000-000000000001', name: 'k\u0000' } }), [{ field: 'createApiKey', argument: 'input.name', character: 'U+0000' }]],
    ['a DEL in an OTP subject', 'mutation($i: SendOtpInput!) { sendOtp(input: $i) { otpRequest { id } } }',
      () => ({ i: { email: 'qa@example.com', channels: ['EMAIL'], source: 'x', type: 'simple_otp', emailSubject: 'Code\u007f' } }),
      [{ field: 'sendOtp', argument: 'input.emailSubject', character: 'U+007F' }]],
    ['a NUL written literally in the document', 'mutation { createRecord(module: "Contacts", fields: { lastName: "lit\\u0000eral" }) { record { id } } }',
      () => ({}), [{ field: 'createRecord', argument: 'fields.lastName', character: 'U+0000' }]],
  ];

  // application/json (fetch's `Accept: */*`): refused before running, so 200 with `errors` only (GraphQL over HTTP)
  test.each(cases)('%s: BAD_USER_INPUT naming every such argument, nothing written', async (_label, query, variables, expected) => {
    const before = await counts();
    const res = await t.gql(query, variables());
    expect(res.status).toBe(200);
    expect(res.body.data).toBeUndefined();
    expectBadInput(res, expected[0].argument.split(/[.[ ]/)[0]);
    expect(res.body.errors[0].extensions.invalidArguments).toEqual(expect.arrayContaining(expected));
    expect(res.body.errors[0].extensions.invalidArguments).toHaveLength(expected.length);
    for (const e of expected) expect(res.body.errors[0].message).toContain(`${e.field}(${e.argument}) holds ${e.character}`);
    expect(await counts()).toEqual(before);
  });

  test('tabs, line breaks and characters outside the BMP are kept as given', async () => {
    const title = 'line one\r\nline\ttwo 🚀';
    const res = await t.gql('mutation($f: JSONObject!) { createRecord(module: "Contacts", fields: $f) { record { fields } userErrors { message } } }', { f: { lastName: 'Kept', title } });
    expect(res.body.data.createRecord).toEqual({ record: { fields: { lastName: 'Kept', title: title.trim() } }, userErrors: [] });
  });
});
