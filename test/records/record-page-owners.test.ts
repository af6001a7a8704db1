import { withStatementTexts } from '../../src/db/pipelined-sql';
import { StatementCounter } from '../support/statements';
import { startTestServer, type TestServer } from '../support/test-server';

/**
 * A records page gives its records their owners with one users statement (records.ts `withOwners`), only when the
 * operation asks for an owner, and makes a record's cursor only when it is asked for: both must answer exactly what
 * the per-record `owner` loader and the eager cursors answered.
 */
let t: TestServer;
const counter = new StatementCounter(() => t);
const TOTAL = 30;
const ADMIN_EMAIL = 'admin@countersign.local';

beforeAll(async () => {
  t = await startTestServer('record_page_owners', { OTP_WORKER: 'false', WEBHOOKS_WORKER: 'false' });
  counter.install();
  const rows = Array.from({ length: TOTAL }, (_, i) => ({ lastName: `Owned ${String(i).padStart(2, '0')}` }));
  const res = await t.gql('mutation($rows: [JSONObject!]!) { importRecords(module: "Contacts", rows: $rows) { importedCount } }', { rows });
  expect(res.body.data.importRecords.importedCount).toBe(TOTAL);
});
afterAll(async () => {
  counter.uninstall();
  await t.close();
});

const WHERE = '[{ field: "lastName", operator: STARTS_WITH, value: "Owned" }]';

async function page(selection: string, fragments = '') {
  const { statements, result: res } = await counter.count(() => t.gql(
    `query { records(module: "Contacts", first: 100, where: ${WHERE}, orderBy: { field: "lastName", direction: ASC }) { ${selection} } } ${fragments}`));
  if (res.body.errors) throw new Error(JSON.stringify(res.body.errors));
  // loaders' statements are prepared once per connection and EXECUTEd by name after: read them with their SQL
  const kinds = statements.map(withStatementTexts).filter((sql) => !/FROM api_keys/.test(sql))
    .map((sql) => (/FROM users/.test(sql) ? 'users' : /FROM records r/.test(sql) ? 'records' : sql));
  return { records: res.body.data.records, kinds };
}

describe('records page: owners in one statement, however the owner is asked for', () => {
  test.each([
    ['nodes', 'nodes { id owner { email } }', '', (r: any) => r.nodes],
    ['edges', 'edges { node { id owner { email } } }', '', (r: any) => r.edges.map((e: any) => e.node)],
    ['an alias', 'rows: nodes { id who: owner { email } }', '', (r: any) => r.rows.map((n: any) => ({ id: n.id, owner: n.who }))],
    ['a named fragment', 'nodes { ...Owned }', 'fragment Owned on Record { id owner { email } }', (r: any) => r.nodes],
    ['an inline fragment', '... on RecordPage { edges { node { ... on Record { id owner { email } } } } }', '', (r: any) => r.edges.map((e: any) => e.node)],
  ])('through %s: every record has its owner; one records and one users statement', async (_how, selection, fragments, nodesOf) => {
    const { records, kinds } = await page(selection, fragments);
    const nodes = nodesOf(records);
    expect(nodes).toHaveLength(TOTAL);
    for (const node of nodes) expect(node.owner).toEqual({ email: ADMIN_EMAIL });
    expect(kinds.sort()).toEqual(['records', 'users']);
  });

  test('a page that asks for no owner reads no user', async () => {
    const { records, kinds } = await page('nodes { id label }');
    expect(records.nodes).toHaveLength(TOTAL);
    expect(kinds).toEqual(['records']);
  });

  test('an owner asked for twice in one record (aliases) is the same owner, still one users statement', async () => {
    const { records, kinds } = await page('nodes { a: owner { email } b: owner { id email } }');
    for (const node of records.nodes) {
      expect(node.a).toEqual({ email: ADMIN_EMAIL });
      expect(node.b.email).toBe(ADMIN_EMAIL);
    }
    expect(kinds.sort()).toEqual(['records', 'users']);
  });
});

describe('records page: cursors made on demand are the cursors of their records', () => {
  test('every edge cursor, passed as after, starts the next page right after its record; the last edge\'s is endCursor', async () => {
    const { records } = await page('edges { cursor node { id } } pageInfo { endCursor hasNextPage }');
    const ids = records.edges.map((e: any) => e.node.id);
    expect(records.edges[records.edges.length - 1].cursor).toBe(records.pageInfo.endCursor);
    for (const index of [0, 1, 13, TOTAL - 2]) {
      const res = await t.gql(`query($after: String) { records(module: "Contacts", first: 2, after: $after, where: ${WHERE}, orderBy: { field: "lastName", direction: ASC }) { nodes { id } } }`,
        { after: records.edges[index].cursor });
      expect(res.body.data.records.nodes.map((n: any) => n.id)).toEqual(ids.slice(index + 1, index + 3));
    }
  });

  test('a page asking only for pageInfo and a page asking for edges give the same endCursor', async () => {
    const onlyInfo = await page('pageInfo { endCursor }');
    const withEdges = await page('edges { cursor } pageInfo { endCursor }');
    expect(onlyInfo.records.pageInfo.endCursor).toBe(withEdges.records.pageInfo.endCursor);
  });
});
