import { findModule } from '../../src/records/modules';
import { RecordQuery } from '../../src/records/record.query';
import { connectedRecordSql } from '../../src/connections/connection.query';
import { startTestServer, type TestServer } from '../support/test-server';
import { SYSTEM, USER_ERRORS, connect, contact, createRecord, organization } from './helpers';

let t: TestServer;
beforeAll(async () => { t = await startTestServer('conn_filters'); });
afterAll(() => t.close());

const RECORDS = `query($module: String!, $where: [RecordFilterInput!], $first: Int, $after: String) {
  records(module: $module, where: $where, first: $first, after: $after, orderBy: { field: "label", direction: ASC }) {
    totalCount
    nodes { id label }
    pageInfo { hasNextPage endCursor }
  }
}`;

async function records(module: string, where: unknown, extra: Record<string, unknown> = {}) {
  const res = await t.gql(RECORDS, { module, where, first: 50, ...extra });
  if (res.body.errors) throw new Error(JSON.stringify(res.body.errors));
  return res.body.data.records;
}
const labels = (page: { nodes: Array<{ label: string }> }) => page.nodes.map((n) => n.label);

let acme: { id: string };
let globex: { id: string };
let staff: Array<{ id: string }>;

beforeAll(async () => {
  acme = await organization(t, 'Filter Acme');
  globex = await organization(t, 'Filter Globex');
  staff = [];
  for (const name of ['Ada', 'Bea', 'Cal', 'Dee', 'Eve']) staff.push(await contact(t, `Filter ${name}`));
  // Ada, Bea, Cal work at Acme; Dee worked there until 2020; Eve works at Globex. Ada knows Eve.
  for (const c of staff.slice(0, 3)) await connect(t, { typeId: SYSTEM.worksAt, sourceId: c.id, targetId: acme.id, startDate: '2021-01-01' });
  await connect(t, { typeId: SYSTEM.worksAt, sourceId: staff[3].id, targetId: acme.id, startDate: '2015-01-01', endDate: '2020-12-31' });
  await connect(t, { typeId: SYSTEM.worksAt, sourceId: staff[4].id, targetId: globex.id });
  await connect(t, { typeId: SYSTEM.knows, sourceId: staff[0].id, targetId: staff[4].id });
});

describe('records(where: { connected }) filters records by their connections', () => {
  test('contacts working at Acme, composable with field filters and pagination', async () => {
    const all = await records('Contacts', { connected: { typeId: SYSTEM.worksAt, side: 'SOURCE', to: acme.id } });
    expect(labels(all)).toEqual(['Filter Ada', 'Filter Bea', 'Filter Cal', 'Filter Dee']);
    expect(all.totalCount).toBe(4);
    const withField = await records('Contacts', [
      { connected: { typeId: SYSTEM.worksAt, to: acme.id } }, { field: 'lastName', operator: 'NOT_EQUALS', value: 'Filter Bea' },
    ]);
    expect(labels(withField)).toEqual(['Filter Ada', 'Filter Cal', 'Filter Dee']);
    const first = await records('Contacts', { connected: { to: acme.id } }, { first: 2 });
    const next = await records('Contacts', { connected: { to: acme.id } }, { first: 2, after: first.pageInfo.endCursor });
    expect([...labels(first), ...labels(next)]).toEqual(['Filter Ada', 'Filter Bea', 'Filter Cal', 'Filter Dee']);
    expect(next.pageInfo.hasNextPage).toBe(false);
  });

  test('activeOn keeps connections in force that day', async () => {
    expect(labels(await records('Contacts', { connected: { to: acme.id, activeOn: '2019-06-01' } }))).toEqual(['Filter Dee']);
    expect(labels(await records('Contacts', { connected: { to: acme.id, activeOn: '2022-06-01' } }))).toEqual(['Filter Ada', 'Filter Bea', 'Filter Cal']);
  });

  test('side TARGET from the organizations, and without `to`: every organization employing someone', async () => {
    const employers = await records('Organizations', [{ connected: { typeId: SYSTEM.worksAt, side: 'TARGET' } }, { field: 'name', operator: 'STARTS_WITH', value: 'Filter' }]);
    expect(labels(employers)).toEqual(['Filter Acme', 'Filter Globex']);
    expect(labels(await records('Organizations', [{ connected: { typeId: SYSTEM.worksAt, side: 'SOURCE' } }]))).toEqual([]);
    expect(labels(await records('Organizations', { connected: { to: staff[4].id } }))).toEqual(['Filter Globex']);
  });

  test('a symmetric type matches either side, whichever is asked', async () => {
    expect(labels(await records('Contacts', { connected: { typeId: SYSTEM.knows, side: 'SOURCE', to: staff[0].id } }))).toEqual(['Filter Eve']);
    expect(labels(await records('Contacts', { connected: { typeId: SYSTEM.knows, side: 'TARGET', to: staff[4].id } }))).toEqual(['Filter Ada']);
  });
});

describe('attacker: connected filters on deleted records, other modules, bad ids and foreign cursors', () => {
  test('a connection to a soft-deleted record matches nothing; the deleted record is never listed', async () => {
    const ghost = await organization(t, 'Filter Ghost');
    const worker = await contact(t, 'Filter Ghostworker');
    await connect(t, { typeId: SYSTEM.worksAt, sourceId: worker.id, targetId: ghost.id });
    expect(labels(await records('Contacts', { connected: { to: ghost.id } }))).toEqual(['Filter Ghostworker']);
    await t.gql(`mutation($id: ID!) { deleteRecord(id: $id) { ${USER_ERRORS} } }`, { id: ghost.id });
    expect(labels(await records('Contacts', { connected: { to: ghost.id } }))).toEqual([]);
    expect(labels(await records('Organizations', { connected: { to: worker.id } }))).toEqual([]);
  });

  test('records of another module than asked are not listed', async () => {
    const vendor = await createRecord(t, 'Vendors', { name: 'Filter Vendor' });
    expect(labels(await records('Vendors', { connected: { to: acme.id } }))).toEqual([]);
    expect(vendor.id).toBeTruthy();
  });

  test('bad ids and dates are refused together, naming every one, before any SQL', async () => {
    const res = await t.gql(RECORDS, { module: 'Contacts', where: [
      { connected: { typeId: 'not-a-type', to: 'nope' } },
      { field: 'lastName', operator: 'EQUALS', value: 'x', connected: { to: acme.id } },
      { connected: { activeOn: null }, value: 1 },
      { value: 1 },
    ] });
    expect(res.body.data).toBeNull();
    const error = res.body.errors[0];
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'where' });
    expect(error.message).toContain('where[0].connected.typeId');
    expect(error.message).toContain('where[0].connected.to');
    expect(error.message).toContain('where[1] has both');
    expect(error.message).toContain('where[3] needs field and operator');
    const badDate = await t.gql(RECORDS, { module: 'Contacts', where: { connected: { activeOn: '2024-13-01' } } });
    expect(badDate.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  test('a cursor of another filter only positions the page: it never lets non-matching records in', async () => {
    const unfiltered = await records('Contacts', [{ field: 'lastName', operator: 'STARTS_WITH', value: 'Filter' }], { first: 1 });
    const page = await records('Contacts', { connected: { to: acme.id } }, { after: unfiltered.pageInfo.endCursor });
    expect(labels(page)).toEqual(['Filter Bea', 'Filter Cal', 'Filter Dee']);
  });
});

describe('the connected filter is index-backed', () => {
  test.each([
    ['with `to`: found from the other record\'s connections', { typeId: null, side: null, to: '00000000-0000-4000-8000-0000000000aa', activeOn: '2024-01-01' }, ['IDX_connections_target', 'IDX_connections_source']],
    // the planner may probe per record (IDX_connections_source) or hash the type's connections (the exclusion constraint's GiST index leads with type_id)
    ['without `to`: by an index on either side', { typeId: '00000000-0000-4000-8100-000000000006', side: 'SOURCE' as const, to: null, activeOn: null }, []],
  ])('%s', async (_what, connected, indexes) => {
    const query = new RecordQuery(findModule('Contacts')!, [{ connected }], { field: 'label', direction: 'ASC' }, false, { connectedSql: connectedRecordSql });
    const sql = query.pageSql(20, null);
    await t.sql('SET enable_seqscan = off');
    try {
      const plan = (await t.sql(`EXPLAIN ${sql}`, query.params)).map((r) => r['QUERY PLAN']).join('\n');
      for (const index of indexes) expect(plan).toContain(index);
      expect(plan).not.toMatch(/Seq Scan on connections/);
      expect(plan).toMatch(/Index Scan using "(IDX_connections_\w+|EX_connections_no_overlap)" on connections/);
    } finally {
      await t.sql('RESET enable_seqscan');
    }
  });
});

const GROUPS = `query($id: ID!, $first: Int, $filter: RecordConnectionFilterInput, $asOf: LocalDate) {
  record(id: $id) {
    connectionGroups(first: $first, filter: $filter, asOf: $asOf) {
      label direction totalCount type { id }
      connections { totalCount nodes { connectionId otherRecord { label } } pageInfo { hasNextPage endCursor } }
    }
  }
}`;

describe('Record.connectionGroups: a record\'s connections grouped by label', () => {
  test('groups in label order, each with its count and first page; the next page comes from Record.connections', async () => {
    const res = await t.gql(GROUPS, { id: acme.id, first: 2 });
    expect(res.body.errors).toBeUndefined();
    const [employs] = res.body.data.record.connectionGroups;
    expect(res.body.data.record.connectionGroups.map((g: any) => [g.label, g.direction, g.totalCount])).toEqual([['employs', 'INCOMING', 4]]);
    expect(employs.connections.nodes.map((n: any) => n.otherRecord.label)).toEqual(['Filter Ada', 'Filter Bea']);
    expect(employs.connections.pageInfo.hasNextPage).toBe(true);
    const next = await t.gql(`query($id: ID!, $filter: RecordConnectionFilterInput, $after: String) {
      record(id: $id) { connections(filter: $filter, after: $after) { nodes { otherRecord { label } } } } }`,
    { id: acme.id, filter: { typeIds: [employs.type.id], direction: employs.direction }, after: employs.connections.pageInfo.endCursor });
    expect(next.body.data.record.connections.nodes.map((n: any) => n.otherRecord.label)).toEqual(['Filter Cal', 'Filter Dee']);

    const ada = await t.gql(GROUPS, { id: staff[0].id, first: 5 });
    expect(ada.body.data.record.connectionGroups.map((g: any) => [g.label, g.direction, g.totalCount])).toEqual([
      ['is working at', 'OUTGOING', 1], ['knows', 'MUTUAL', 1],
    ]);
  });

  test('filters apply to the groups; first past 100 is refused', async () => {
    const active = await t.gql(GROUPS, { id: acme.id, first: 10, filter: { activeOn: '2019-01-01' } });
    expect(active.body.data.record.connectionGroups.map((g: any) => [g.label, g.totalCount])).toEqual([['employs', 1]]);
    const refused = await t.gql(GROUPS, { id: acme.id, first: 101 });
    expect(refused.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'first' });
  });
});
