import { listAll } from '../support/api';
import { startTestServer, type TestServer } from '../support/test-server';
import { CREATE_TYPE, connect, contact, createType, organization, SYSTEM, UPDATE_TYPE, USER_ERRORS, createRecord } from './helpers';

let t: TestServer;
beforeAll(async () => { t = await startTestServer('conn_types'); });
afterAll(() => t.close());

const mentorInput = (name: string) => ({
  name, inverseName: `${name} (inverse)`, sourceModules: ['Contacts'], targetModules: ['Contacts', 'Leads'],
  properties: [
    { key: 'since', label: 'Since', type: 'DATE' },
    { key: 'level', label: 'Level', type: 'PICKLIST', required: true, options: ['Junior', 'Senior'] },
  ],
});

describe('connection types: successful cases', () => {
  test('connectionTypes lists the seeded types, filtered by module', async () => {
    const all = await listAll(t, 'connectionTypes', 'name isSystem');
    expect(all.filter((c: { isSystem: boolean }) => c.isSystem)).toHaveLength(8);
    const orgs = await listAll(t, 'connectionTypes', 'name inverseName sourceModules targetModules', { module: 'organizations' });
    expect(orgs.map((c: { name: string }) => c.name).sort())
      .toEqual(['board member of', 'consultant at', 'is working at', 'previously worked at']);
    const one = await t.gql('query($id: ID!) { connectionType(id: $id) { name inverseName symmetric } }', { id: SYSTEM.worksAt });
    expect(one.body.data.connectionType).toEqual({ name: 'is working at', inverseName: 'employs', symmetric: false });
  });

  test('an admin creates a type with properties; module names are normalised', async () => {
    const payload = await createType(t, { ...mentorInput('mentors'), sourceModules: ['contacts'] });
    expect(payload.userErrors).toEqual([]);
    expect(payload.connectionType).toMatchObject({
      name: 'mentors', inverseName: 'mentors (inverse)', symmetric: false, sourceModules: ['Contacts'], targetModules: ['Contacts', 'Leads'],
      allowSelf: false, active: true, isSystem: false,
      properties: [
        { key: 'since', label: 'Since', type: 'DATE', required: false, options: [] },
        { key: 'level', label: 'Level', type: 'PICKLIST', required: true, options: ['Junior', 'Senior'] },
      ],
    });
  });

  test('a symmetric type takes its name as inverse name', async () => {
    const payload = await createType(t, { name: 'partners with', symmetric: true, sourceModules: ['Organizations', 'Vendors'], targetModules: ['Organizations', 'Vendors'] });
    expect(payload.userErrors).toEqual([]);
    expect(payload.connectionType).toMatchObject({ name: 'partners with', inverseName: 'partners with', symmetric: true });
  });

  test('the same name is fine for another module pair', async () => {
    const payload = await createType(t, { name: 'Is Working At', inverseName: 'employs', sourceModules: ['Leads'], targetModules: ['Vendors'] });
    expect(payload.userErrors).toEqual([]);
  });

  test('updating a type keeps unchanged fields; deactivating hides it from the default list', async () => {
    const { connectionType } = await createType(t, mentorInput('coaches'));
    const res = await t.gql(UPDATE_TYPE, { id: connectionType.id, input: { inverseName: 'is coached by', active: false } });
    expect(res.body.data.updateConnectionType.userErrors).toEqual([]);
    expect(res.body.data.updateConnectionType.connectionType).toMatchObject({ name: 'coaches', inverseName: 'is coached by', active: false });
    const listed = await listAll(t, 'connectionTypes', 'id');
    expect(listed.map((c: { id: string }) => c.id)).not.toContain(connectionType.id);
    const withInactive = await listAll(t, 'connectionTypes', 'id', { active: null });
    expect(withInactive.map((c: { id: string }) => c.id)).toContain(connectionType.id);
    expect((await listAll(t, 'connectionTypes', 'id', { active: false })).map((c: { id: string }) => c.id)).toEqual([connectionType.id]);
  });

  test('deleting an unused custom type removes it', async () => {
    const { connectionType } = await createType(t, mentorInput('temporary'));
    const res = await t.gql(`mutation($id: ID!) { deleteConnectionType(id: $id) { connectionType { id } affectedConnectionIds ${USER_ERRORS} } }`, { id: connectionType.id });
    expect(res.body.data.deleteConnectionType).toEqual({ connectionType: { id: connectionType.id }, affectedConnectionIds: [], userErrors: [] });
    expect(await t.sql('SELECT id FROM connection_types WHERE id = $1', [connectionType.id])).toEqual([]);
  });

  test('deleting a used type with policy DELETE removes its connections too', async () => {
    const { connectionType } = await createType(t, { name: 'doomed', inverseName: 'doomed by', sourceModules: ['Contacts'], targetModules: ['Contacts'] });
    const [a, b] = [await contact(t, 'Doom A'), await contact(t, 'Doom B')];
    const { connection } = await connect(t, { typeId: connectionType.id, sourceId: a.id, targetId: b.id });
    const res = await t.gql(`mutation($id: ID!) { deleteConnectionType(id: $id, policy: DELETE) { affectedConnectionIds ${USER_ERRORS} } }`, { id: connectionType.id });
    expect(res.body.data.deleteConnectionType).toEqual({ affectedConnectionIds: [connection.id], userErrors: [] });
    expect(await t.sql('SELECT id FROM connections WHERE id = $1', [connection.id])).toEqual([]);
  });
});

describe('connection types: policies for connections that no longer fit', () => {
  async function typeWithOneConnection(name: string) {
    const { connectionType } = await createType(t, { name, inverseName: `${name} of`, sourceModules: ['Contacts'], targetModules: ['Organizations', 'Vendors'],
      properties: [{ key: 'role', label: 'Role', type: 'TEXT' }] });
    const person = await contact(t, `${name} person`);
    const vendor = await createRecord(t, 'Vendors', { name: `${name} vendor` });
    const org = await organization(t, `${name} org`);
    const toVendor = (await connect(t, { typeId: connectionType.id, sourceId: person.id, targetId: vendor.id, properties: { role: 'Buyer' } })).connection;
    const toOrg = (await connect(t, { typeId: connectionType.id, sourceId: person.id, targetId: org.id })).connection;
    return { typeId: connectionType.id, toVendor, toOrg };
  }

  test('RESTRICT (the default) refuses and lists the connections in the way; nothing changes', async () => {
    const { typeId, toVendor } = await typeWithOneConnection('restricted');
    const res = await t.gql(UPDATE_TYPE, { id: typeId, input: { targetModules: ['Organizations'] } });
    const payload = res.body.data.updateConnectionType;
    expect(payload.connectionType).toBeNull();
    expect(payload.affectedConnectionIds).toEqual([toVendor.id]);
    expect(payload.userErrors).toEqual([expect.objectContaining({ code: 'IN_USE', field: ['policy'] })]);
    expect(payload.userErrors[0].message).toContain(toVendor.id);
    const [row] = await t.sql('SELECT target_modules FROM connection_types WHERE id = $1', [typeId]);
    expect(row.target_modules).toEqual(['Organizations', 'Vendors']);
  });

  test('DELETE removes the connections that no longer fit and keeps the others', async () => {
    const { typeId, toVendor, toOrg } = await typeWithOneConnection('deleting');
    const res = await t.gql(UPDATE_TYPE, { id: typeId, input: { targetModules: ['Organizations'] }, policy: 'DELETE' });
    expect(res.body.data.updateConnectionType).toMatchObject({ affectedConnectionIds: [toVendor.id], userErrors: [] });
    const left = await t.sql('SELECT id FROM connections WHERE type_id = $1', [typeId]);
    expect(left.map((r) => r.id)).toEqual([toOrg.id]);
  });

  test('END sets an end date in the past on the misfits, so they read INACTIVE', async () => {
    const { typeId, toVendor, toOrg } = await typeWithOneConnection('ending');
    // a required property added: both connections lack it
    const res = await t.gql(UPDATE_TYPE, { id: typeId, input: { properties: [{ key: 'role', label: 'Role', type: 'TEXT', required: true }] }, policy: 'END' });
    expect(res.body.data.updateConnectionType).toMatchObject({ affectedConnectionIds: [toOrg.id], userErrors: [] });
    const status = await t.gql('query($a: ID!, $b: ID!) { a: connection(id: $a) { status endDate } b: connection(id: $b) { status endDate } }', { a: toOrg.id, b: toVendor.id });
    expect(status.body.data.a).toEqual({ status: 'INACTIVE', endDate: new Date(Date.now() - 86_400_000).toISOString().slice(0, 10) });
    expect(status.body.data.b).toEqual({ status: 'ACTIVE', endDate: null });
  });

  test('IGNORE changes the type and leaves the connections as they are', async () => {
    const { typeId, toVendor } = await typeWithOneConnection('ignoring');
    const res = await t.gql(UPDATE_TYPE, { id: typeId, input: { targetModules: ['Organizations'] }, policy: 'IGNORE' });
    expect(res.body.data.updateConnectionType).toMatchObject({ affectedConnectionIds: [toVendor.id], userErrors: [], connectionType: { targetModules: ['Organizations'] } });
    expect(await t.sql('SELECT end_date FROM connections WHERE id = $1', [toVendor.id])).toEqual([{ end_date: null }]);
  });

  test('connections kept with IGNORE do not block a later, unrelated change', async () => {
    const { typeId, toVendor } = await typeWithOneConnection('tolerant');
    await t.gql(UPDATE_TYPE, { id: typeId, input: { targetModules: ['Organizations'] }, policy: 'IGNORE' });
    const renamed = await t.gql(UPDATE_TYPE, { id: typeId, input: { name: 'tolerant of' } });
    expect(renamed.body.data.updateConnectionType).toMatchObject({ userErrors: [], affectedConnectionIds: [], connectionType: { name: 'tolerant of' } });
    // a new way of not fitting counts again
    const stricter = await t.gql(UPDATE_TYPE, { id: typeId, input: { properties: [{ key: 'role', label: 'Role', type: 'NUMBER' }] } });
    expect(stricter.body.data.updateConnectionType.affectedConnectionIds).toEqual([toVendor.id]);
  });

  test('turning allowSelf off takes the policy for existing self-links', async () => {
    const { connectionType } = await createType(t, { name: 'self aware', inverseName: 'self aware of', sourceModules: ['Contacts'], targetModules: ['Contacts'], allowSelf: true });
    const me = await contact(t, 'Narcissus');
    const { connection } = await connect(t, { typeId: connectionType.id, sourceId: me.id, targetId: me.id });
    expect(connection).not.toBeNull();
    const res = await t.gql(UPDATE_TYPE, { id: connectionType.id, input: { allowSelf: false } });
    expect(res.body.data.updateConnectionType).toMatchObject({ affectedConnectionIds: [connection.id], userErrors: [expect.objectContaining({ code: 'IN_USE' })] });
  });
});

describe('connection types: failing cases', () => {
  test('every bad definition is reported at once', async () => {
    const payload = await createType(t, {
      name: '  ', sourceModules: ['Deals', 'Spaceships'], targetModules: ['Contacts'],
      properties: [
        { key: '1bad', label: 'Bad', type: 'TEXT' },
        { key: 'pick', label: 'Pick', type: 'PICKLIST' },
        { key: 'pick', label: 'Again', type: 'NUMBER', options: ['x'] },
      ],
    });
    expect(payload.connectionType).toBeNull();
    expect(payload.userErrors.map((e: { field: string[]; code: string }) => [e.field.join('.'), e.code])).toEqual([
      ['name', 'REQUIRED'],
      ['inverseName', 'REQUIRED'],
      ['sourceModules.0', 'INVALID'],
      ['sourceModules.1', 'INVALID'],
      ['properties.0.key', 'INVALID'],
      ['properties.1.options', 'REQUIRED'],
      ['properties.2.key', 'TAKEN'],
      ['properties.2.options', 'INVALID'],
    ]);
  });

  test('names are unique per module pair, case-insensitively', async () => {
    const payload = await createType(t, { name: 'IS WORKING AT', inverseName: 'hires', sourceModules: ['Contacts', 'Leads'], targetModules: ['Organizations'] });
    expect(payload.userErrors).toEqual([expect.objectContaining({ code: 'TAKEN', field: ['name'] })]);
    expect(payload.userErrors[0].message).toContain(SYSTEM.worksAt);
  });

  test('a symmetric name clashes in either direction', async () => {
    await createType(t, { name: 'allied with', symmetric: true, sourceModules: ['Vendors'], targetModules: ['Leads'] });
    const payload = await createType(t, { name: 'Allied With', inverseName: 'allies', sourceModules: ['Leads'], targetModules: ['Vendors'] });
    expect(payload.userErrors).toEqual([expect.objectContaining({ code: 'TAKEN' })]);
  });

  test('system types cannot be deleted', async () => {
    const res = await t.gql(`mutation($id: ID!) { deleteConnectionType(id: $id) { connectionType { id } ${USER_ERRORS} } }`, { id: SYSTEM.knows });
    expect(res.body.data.deleteConnectionType.userErrors).toEqual([expect.objectContaining({ code: 'FORBIDDEN', field: ['id'] })]);
    expect(await t.sql('SELECT count(*)::int AS n FROM connection_types WHERE id = $1', [SYSTEM.knows])).toEqual([{ n: 1 }]);
  });

  test('a used type is IN_USE unless the policy says DELETE', async () => {
    const { connectionType } = await createType(t, { name: 'kept', inverseName: 'kept by', sourceModules: ['Contacts'], targetModules: ['Contacts'] });
    const [a, b] = [await contact(t, 'Kept A'), await contact(t, 'Kept B')];
    const { connection } = await connect(t, { typeId: connectionType.id, sourceId: a.id, targetId: b.id });
    const res = await t.gql(`mutation($id: ID!) { deleteConnectionType(id: $id) { connectionType { id } affectedConnectionIds ${USER_ERRORS} } }`, { id: connectionType.id });
    expect(res.body.data.deleteConnectionType).toMatchObject({ connectionType: null, affectedConnectionIds: [connection.id], userErrors: [expect.objectContaining({ code: 'IN_USE' })] });
  });

  test('deleting a type takes only RESTRICT or DELETE', async () => {
    const { connectionType } = await createType(t, { name: 'undeletable policy', inverseName: 'x', sourceModules: ['Leads'], targetModules: ['Leads'] });
    for (const policy of ['END', 'IGNORE']) {
      const res = await t.gql(`mutation($id: ID!, $policy: ConnectionPolicy) { deleteConnectionType(id: $id, policy: $policy) { connectionType { id } ${USER_ERRORS} } }`,
        { id: connectionType.id, policy });
      expect(res.body.data.deleteConnectionType.userErrors).toEqual([expect.objectContaining({ code: 'INVALID', field: ['policy'] })]);
    }
    expect(await t.sql('SELECT count(*)::int AS n FROM connection_types WHERE id = $1', [connectionType.id])).toEqual([{ n: 1 }]);
  });

  test('unknown or malformed ids are NOT_FOUND / null, never a server error', async () => {
    const update = await t.gql(UPDATE_TYPE, { id: 'nope', input: { name: 'x' } });
    expect(update.body.data.updateConnectionType.userErrors).toEqual([expect.objectContaining({ code: 'NOT_FOUND', field: ['id'] })]);
    const read = await t.gql('{ connectionType(id: "nope") { id } }');
    expect(read.body).toEqual({ data: { connectionType: null } });
  });

  test('over-long names, labels and options are client errors and nothing is written', async () => {
    const long = 'x'.repeat(101);
    const base = { name: 'length check', inverseName: 'length checked', sourceModules: ['Contacts'], targetModules: ['Contacts'] };
    for (const input of [
      { ...base, name: long },
      { ...base, properties: [{ key: 'k', label: long, type: 'TEXT' }] },
      { ...base, properties: [{ key: 'k', label: 'K', type: 'PICKLIST', options: [long] }] },
    ]) {
      const res = await t.gql(CREATE_TYPE, { input });
      expect(res.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    }
    expect(await t.sql(`SELECT count(*)::int AS n FROM connection_types WHERE name = 'length check'`)).toEqual([{ n: 0 }]);
  });

  test('only admins define types; every role can read them', async () => {
    const user = await t.keyFor('USER');
    const readonly = await t.keyFor('READONLY');
    for (const key of [user.key, readonly.key]) {
      const res = await t.gql(`mutation { createConnectionType(input: { name: "x", inverseName: "y", sourceModules: ["Contacts"], targetModules: ["Contacts"] }) { ${USER_ERRORS} } }`, {}, { key });
      expect(res.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      const del = await t.gql(`mutation { deleteConnectionType(id: "${SYSTEM.knows}") { ${USER_ERRORS} } }`, {}, { key });
      expect(del.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      expect((await listAll(t, 'connectionTypes', 'id', { module: 'Contacts' }, { key })).length).toBeGreaterThanOrEqual(8);
    }
    expect(await t.sql(`SELECT count(*)::int AS n FROM connection_types WHERE name = 'x'`)).toEqual([{ n: 0 }]);
  });
});
