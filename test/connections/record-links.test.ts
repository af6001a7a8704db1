import { startTestServer, type TestServer } from '../support/test-server';
import { SYSTEM, USER_ERRORS, connect, contact, createType, organization } from './helpers';

let t: TestServer;
beforeAll(async () => { t = await startTestServer('record_links'); });
afterAll(() => t.close());

const CREATE_WITH_LINKS = `mutation($module: String!, $fields: JSONObject!, $connections: [NewRecordConnectionInput!]) {
  createRecord(module: $module, fields: $fields, connections: $connections) { record { id label } ${USER_ERRORS} }
}`;

async function createWithLinks(module: string, fields: Record<string, unknown>, connections: unknown[]): Promise<any> {
  const res = await t.gql(CREATE_WITH_LINKS, { module, fields, connections });
  if (res.body.errors) throw new Error(JSON.stringify(res.body.errors));
  return res.body.data.createRecord;
}

const countRecords = async (label: string) => (await t.sql('SELECT count(*)::int AS n FROM records WHERE label = $1', [label]))[0].n;
const linksOf = (id: string) => t.sql(
  `SELECT type_id, source_id, target_id, start_date::text AS start_date, properties, context_record_id FROM connections
    WHERE source_id = $1 OR target_id = $1 ORDER BY type_id DESC, id`, [id]);

describe('links created with the record: successful cases', () => {
  test('a contact is created working at one organization and managing another contact, in one request', async () => {
    const acme = await organization(t, 'Links Acme');
    const report = await contact(t, 'Report');
    const payload = await createWithLinks('Contacts', { lastName: 'Boss' }, [
      { typeId: SYSTEM.worksAt, otherId: acme.id, side: 'SOURCE', startDate: '2024-04-01' },
      { typeId: SYSTEM.reportsTo, otherId: report.id, side: 'TARGET', notes: 'since the reorg' },
    ]);
    expect(payload.userErrors).toEqual([]);
    const id = payload.record.id;
    expect(await linksOf(id)).toEqual([
      { type_id: SYSTEM.worksAt, source_id: id, target_id: acme.id, start_date: '2024-04-01', properties: {}, context_record_id: null },
      { type_id: SYSTEM.reportsTo, source_id: report.id, target_id: id, start_date: null, properties: {}, context_record_id: null },
    ]);
    const events = await t.sql(`SELECT type FROM event_outbox WHERE data->>'sourceId' = $1 OR data->>'targetId' = $1`, [id]);
    expect(events).toEqual([{ type: 'connection.created' }, { type: 'connection.created' }]);
  });
});

describe('links created with the record: failing cases', () => {
  test('an invalid link refuses the whole create, every failing item reported at once with its path', async () => {
    const acme = await organization(t, 'Refused Acme');
    const other = await contact(t, 'Refused other');
    const payload = await createWithLinks('Contacts', { lastName: 'Never saved' }, [
      { typeId: SYSTEM.worksAt, otherId: acme.id, side: 'SOURCE' },
      { typeId: SYSTEM.worksAt, otherId: other.id, side: 'SOURCE' },
      { typeId: '00000000-0000-4000-8100-0000000000ff', otherId: '00000000-0000-4000-8000-00000000dead', side: 'SOURCE' },
      { typeId: SYSTEM.worksAt, otherId: acme.id, side: 'SOURCE', startDate: '2020-01-01' },
      { typeId: SYSTEM.knows, otherId: other.id, side: 'TARGET', startDate: '2022-01-01', endDate: '2021-01-01' },
    ]);
    expect(payload.record).toBeNull();
    expect(payload.userErrors.map((e: any) => [e.field.join('.'), e.code])).toEqual([
      ['connections.1.otherId', 'INVALID'],
      ['connections.2.typeId', 'NOT_FOUND'], ['connections.2.otherId', 'NOT_FOUND'],
      ['connections.3.otherId', 'DUPLICATE_CONNECTION'],
      ['connections.4.endDate', 'INVALID'],
    ]);
    expect(await countRecords('Never saved')).toBe(0);
    expect(await t.sql('SELECT count(*)::int AS n FROM connections WHERE target_id = $1', [acme.id])).toEqual([{ n: 0 }]);
  });

  test('the new record on the wrong side is reported on `side`; a deleted other record is NOT_FOUND', async () => {
    const acme = await organization(t, 'Side Acme');
    const gone = await contact(t, 'Gone');
    await t.gql('mutation($id: ID!) { deleteRecord(id: $id) { record { id } } }', { id: gone.id });
    const payload = await createWithLinks('Contacts', { lastName: 'Wrong side' }, [
      { typeId: SYSTEM.worksAt, otherId: acme.id, side: 'TARGET' },
      { typeId: SYSTEM.knows, otherId: gone.id, side: 'SOURCE' },
    ]);
    expect(payload.userErrors.map((e: any) => e.field.join('.'))).toEqual(expect.arrayContaining(['connections.0.side', 'connections.1.otherId']));
    expect(await countRecords('Wrong side')).toBe(0);
  });

  test('inputs at and past the bound: 101 links are refused with LIMIT_REACHED and nothing is saved', async () => {
    const org = await organization(t, 'Bound org');
    const links = Array.from({ length: 101 }, (_, i) => ({ typeId: SYSTEM.previouslyWorkedAt, otherId: org.id, side: 'SOURCE', startDate: `2000-01-${String((i % 28) + 1).padStart(2, '0')}`, endDate: `2000-01-${String((i % 28) + 1).padStart(2, '0')}` }));
    const payload = await createWithLinks('Contacts', { lastName: 'Too many links' }, links);
    expect(payload.userErrors).toEqual([expect.objectContaining({ field: ['connections'], code: 'LIMIT_REACHED' })]);
    expect(await countRecords('Too many links')).toBe(0);
  });

  test('a READONLY user cannot create a record with links', async () => {
    const readonly = await t.keyFor('READONLY');
    const org = await organization(t, 'RO org');
    const res = await t.gql(CREATE_WITH_LINKS, { module: 'Contacts', fields: { lastName: 'RO links' }, connections: [{ typeId: SYSTEM.worksAt, otherId: org.id, side: 'SOURCE' }] }, { key: readonly.key });
    expect(res.body.errors[0].extensions.code).toBe('FORBIDDEN');
    expect(await countRecords('RO links')).toBe(0);
  });
});

const CONTEXT_CONNECTION = `mutation($input: CreateConnectionInput!) {
  createConnection(input: $input) { connection { id contextRecord { id label module } } ${USER_ERRORS} }
}`;

describe('context record: successful and failing cases', () => {
  test('a type with a context module takes a context record of that module, exposed as contextRecord, changeable and clearable', async () => {
    const type = (await createType(t, { name: 'reported to (ctx)', inverseName: 'had report (ctx)', sourceModules: ['Contacts'], targetModules: ['Contacts'], contextModule: 'Organizations' })).connectionType;
    const [a, b] = [await contact(t, 'Ctx a'), await contact(t, 'Ctx b')];
    const [acme, globex] = [await organization(t, 'Ctx Acme'), await organization(t, 'Ctx Globex')];
    const created = await t.gql(CONTEXT_CONNECTION, { input: { typeId: type.id, sourceId: a.id, targetId: b.id, contextRecordId: acme.id } });
    expect(created.body.data.createConnection).toEqual({ connection: { id: expect.any(String), contextRecord: { id: acme.id, label: 'Ctx Acme', module: 'Organizations' } }, userErrors: [] });
    const id = created.body.data.createConnection.connection.id;
    const UPDATE = `mutation($id: ID!, $input: UpdateConnectionInput!) { updateConnection(id: $id, input: $input) { connection { contextRecord { id } } ${USER_ERRORS} } }`;
    expect((await t.gql(UPDATE, { id, input: { contextRecordId: globex.id } })).body.data.updateConnection).toEqual({ connection: { contextRecord: { id: globex.id } }, userErrors: [] });
    const changeType = await t.gql('mutation($id: ID!) { updateConnectionType(id: $id, input: { contextModule: "Vendors" }) { userErrors { field code } } }', { id: type.id });
    expect(changeType.body.data.updateConnectionType.userErrors).toEqual([{ field: ['contextModule'], code: 'IN_USE' }]);
    expect((await t.gql(UPDATE, { id, input: { contextRecordId: null } })).body.data.updateConnection).toEqual({ connection: { contextRecord: null }, userErrors: [] });
    const read = await t.gql('query($id: ID!) { connectionType(id: $id) { contextModule } }', { id: type.id });
    expect(read.body.data.connectionType).toEqual({ contextModule: 'Organizations' });
  });

  test('a context record is validated like an endpoint: exists, live, of the right module, and only on types that take one', async () => {
    const type = (await createType(t, { name: 'advised (ctx)', inverseName: 'was advised by (ctx)', sourceModules: ['Contacts'], targetModules: ['Contacts'], contextModule: 'Organizations' })).connectionType;
    const [a, b] = [await contact(t, 'Ctx fail a'), await contact(t, 'Ctx fail b')];
    const trashed = await organization(t, 'Ctx trashed');
    await t.gql('mutation($id: ID!) { deleteRecord(id: $id) { record { id } } }', { id: trashed.id });
    const attempt = async (typeId: string, contextRecordId: string) =>
      (await t.gql(CONTEXT_CONNECTION, { input: { typeId, sourceId: a.id, targetId: b.id, contextRecordId } })).body.data.createConnection.userErrors.map((e: any) => [e.field.join('.'), e.code]);
    expect(await attempt(type.id, trashed.id)).toEqual([['contextRecordId', 'NOT_FOUND']]);
    expect(await attempt(type.id, '00000000-0000-4000-8000-00000000dead')).toEqual([['contextRecordId', 'NOT_FOUND']]);
    expect(await attempt(type.id, b.id)).toEqual([['contextRecordId', 'INVALID']]);
    expect(await attempt(SYSTEM.knows, b.id)).toEqual([['contextRecordId', 'INVALID']]);
    const bad = await createType(t, { name: 'bad ctx', inverseName: 'bad ctx inv', sourceModules: ['Contacts'], targetModules: ['Contacts'], contextModule: 'Planets' });
    expect(bad.userErrors).toEqual([expect.objectContaining({ field: ['contextModule'], code: 'INVALID' })]);
    const links = await createWithLinks('Contacts', { lastName: 'Ctx with record' }, [{ typeId: type.id, otherId: b.id, side: 'SOURCE', contextRecordId: b.id }]);
    expect(links.userErrors.map((e: any) => [e.field.join('.'), e.code])).toEqual([['connections.0.contextRecordId', 'INVALID']]);
  });

  test('merging the context record points the connection at the survivor', async () => {
    const type = (await createType(t, { name: 'met at (ctx)', inverseName: 'met at (ctx) inv', sourceModules: ['Contacts'], targetModules: ['Contacts'], contextModule: 'Organizations' })).connectionType;
    const [a, b] = [await contact(t, 'Ctx merge a'), await contact(t, 'Ctx merge b')];
    const [keep, dup] = [await organization(t, 'Ctx keep'), await organization(t, 'Ctx dup')];
    const created = (await connect(t, { typeId: type.id, sourceId: a.id, targetId: b.id, contextRecordId: dup.id })).connection;
    const merged = await t.gql('mutation($s: ID!, $m: [ID!]!) { mergeRecords(survivorId: $s, mergedIds: $m) { userErrors { code } } }', { s: keep.id, m: [dup.id] });
    expect(merged.body.data.mergeRecords.userErrors).toEqual([]);
    expect(await t.sql('SELECT context_record_id FROM connections WHERE id = $1', [created.id])).toEqual([{ context_record_id: keep.id }]);
  });
});
