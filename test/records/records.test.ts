import { createRecord } from '../support/api';
import { startTestServer, type TestServer } from '../support/test-server';

let t: TestServer;
beforeAll(async () => { t = await startTestServer('records'); });
afterAll(() => t.close());

const CREATE = `mutation($module: String!, $fields: JSONObject!) {
  createRecord(module: $module, fields: $fields) { record { id module label version fields owner { email } } userErrors { field message code } }
}`;
const UPDATE = `mutation($id: ID!, $fields: JSONObject!, $expectedVersion: Int) {
  updateRecord(id: $id, fields: $fields, expectedVersion: $expectedVersion) { record { id label version fields } userErrors { field message code } }
}`;

async function createContact(fields: Record<string, unknown>) {
  const res = await t.gql(CREATE, { module: 'Contacts', fields });
  return res.body.data.createRecord;
}

describe('records: successful cases', () => {
  test('modules lists the seven modules with fields and closed states', async () => {
    const res = await t.gql('{ modules { name fields { name type mandatory values } closedStates { field values } } }');
    const names = res.body.data.modules.map((m: { name: string }) => m.name);
    expect(names).toEqual(['Leads', 'Contacts', 'Organizations', 'Vendors', 'Deals', 'Cases', 'Invoices']);
    const deals = res.body.data.modules.find((m: { name: string }) => m.name === 'Deals');
    expect(deals.closedStates).toEqual({ field: 'stage', values: ['Closed Won', 'Closed Lost'] });
  });

  test('createRecord saves validated fields, computes the label and owner', async () => {
    const payload = await createContact({ firstName: ' Asha ', lastName: 'Rao', email: 'asha@example.com', doNotCall: false });
    expect(payload.userErrors).toEqual([]);
    expect(payload.record).toMatchObject({ module: 'Contacts', label: 'Asha Rao', version: 1, owner: { email: 'admin@countersign.local' } });
    expect(payload.record.fields).toEqual({ firstName: 'Asha', lastName: 'Rao', email: 'asha@example.com', doNotCall: false });
    const rows = await t.sql('SELECT label, fields FROM records WHERE id = $1', [payload.record.id]);
    expect(rows[0].label).toBe('Asha Rao');
  });

  test('record(id) reads one record; an unknown id gives null', async () => {
    const { record } = await createContact({ lastName: 'Lookup' });
    const found = await t.gql('query($id: ID!) { record(id: $id) { id label } }', { id: record.id });
    expect(found.body.data.record).toEqual({ id: record.id, label: 'Lookup' });
    const missing = await t.gql('query($id: ID!) { record(id: $id) { id } }', { id: '7d6f1d7e-0000-4000-8000-000000000000' });
    expect(missing.body.data.record).toBeNull();
    const garbage = await t.gql('query($id: ID!) { record(id: $id) { id } }', { id: 'not-a-uuid' });
    expect(garbage.body.data.record).toBeNull();
  });

  test('updateRecord merges fields, clears nulls and bumps the version', async () => {
    const { record } = await createContact({ firstName: 'Ben', lastName: 'Ode', title: 'CFO' });
    const res = await t.gql(UPDATE, { id: record.id, fields: { title: null, firstName: 'Benjamin' }, expectedVersion: 1 });
    expect(res.body.data.updateRecord.userErrors).toEqual([]);
    expect(res.body.data.updateRecord.record).toMatchObject({ label: 'Benjamin Ode', version: 2, fields: { firstName: 'Benjamin', lastName: 'Ode' } });
  });

  test('deleteRecord hides the record; restoreRecord brings it back', async () => {
    const { record } = await createContact({ lastName: 'Temp' });
    const del = await t.gql('mutation($id: ID!) { deleteRecord(id: $id) { record { id deletedAt } userErrors { code } } }', { id: record.id });
    expect(del.body.data.deleteRecord.record.deletedAt).not.toBeNull();
    expect((await t.gql('query($id: ID!) { record(id: $id) { id } }', { id: record.id })).body.data.record).toBeNull();
    const restored = await t.gql('mutation($id: ID!) { restoreRecord(id: $id) { record { id deletedAt } } }', { id: record.id });
    expect(restored.body.data.restoreRecord.record).toEqual({ id: record.id, deletedAt: null });
  });

  test('reference fields must point at an existing record of the allowed module', async () => {
    const org = await createRecord(t, 'Organizations', { name: 'Acme' });
    const ok = await createContact({ lastName: 'Ref', organizationId: org.id });
    expect(ok.userErrors).toEqual([]);
    const contact = ok.record;
    const wrongModule = await createContact({ lastName: 'Ref2', organizationId: contact.id });
    expect(wrongModule.userErrors).toEqual([{ field: ['fields', 'organizationId'], code: 'INVALID', message: `No Organizations record has the id ${contact.id}.` }]);
  });
});

describe('records: failing cases', () => {
  test('every bad field is reported at once and nothing is written', async () => {
    const before = await t.sql('SELECT count(*)::int AS n FROM records');
    const payload = await createContact({ email: 'nope', mobile: 'abc', birthday: '2020-02-30', contactStatus: 'Gone', shoeSize: 42, doNotCall: 'yes' });
    expect(payload.record).toBeNull();
    const byField = Object.fromEntries(payload.userErrors.map((e: { field: string[]; code: string }) => [e.field[1], e.code]));
    expect(byField).toEqual({
      email: 'INVALID', mobile: 'INVALID', birthday: 'INVALID', contactStatus: 'INVALID', shoeSize: 'UNKNOWN_FIELD', doNotCall: 'INVALID', lastName: 'REQUIRED',
    });
    const after = await t.sql('SELECT count(*)::int AS n FROM records');
    expect(after[0].n).toBe(before[0].n);
  });

  test('an unknown module is a user error', async () => {
    const res = await t.gql(CREATE, { module: 'Spaceships', fields: { name: 'x' } });
    expect(res.body.data.createRecord.userErrors).toEqual([{ field: ['module'], code: 'NOT_FOUND', message: 'There is no module "Spaceships".' }]);
  });

  test('a stale expectedVersion is a CONFLICT and nothing is written', async () => {
    const { record } = await createContact({ lastName: 'Versioned' });
    await t.gql(UPDATE, { id: record.id, fields: { title: 'A' }, expectedVersion: 1 });
    const stale = await t.gql(UPDATE, { id: record.id, fields: { title: 'B' }, expectedVersion: 1 });
    expect(stale.body.data.updateRecord.record).toBeNull();
    expect(stale.body.data.updateRecord.userErrors[0]).toMatchObject({ code: 'CONFLICT', field: ['expectedVersion'] });
    const [row] = await t.sql('SELECT version, fields FROM records WHERE id = $1', [record.id]);
    expect(row).toEqual({ version: 2, fields: { lastName: 'Versioned', title: 'A' } });
  });

  test('concurrent updates with the same expectedVersion: exactly one wins', async () => {
    const { record } = await createContact({ lastName: 'Race' });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) =>
      t.gql(UPDATE, { id: record.id, fields: { title: `T${i}` }, expectedVersion: 1 })));
    const winners = results.filter((r) => r.body.data.updateRecord.record);
    expect(winners).toHaveLength(1);
    const [row] = await t.sql('SELECT version FROM records WHERE id = $1', [record.id]);
    expect(row.version).toBe(2);
  });

  test('updating a missing record is NOT_FOUND', async () => {
    const res = await t.gql(UPDATE, { id: '00000000-0000-4000-8000-0000000000ff', fields: { title: 'x' } });
    expect(res.body.data.updateRecord.userErrors).toEqual([{ field: ['id'], code: 'NOT_FOUND', message: 'No record has this id.' }]);
  });
});
