import { Client } from 'pg';
import { loadRecordConnectionSlices, countRecordConnections } from '../../src/connections/connection.query';
import { startTestServer, type TestServer } from '../support/test-server';

/**
 * A page of records with their connections is one statement per page (the loader), and each connection's other
 * record must be looked up by its primary key. As a plain join the planner chose by its statistics: on a small tenant
 * with Postgres's default `random_page_cost` (4) it hashed the whole records table for every viewer (24 ms a page
 * instead of about 2), and where most records have hundreds of connections (the bench's 10^6 connections among 2,000
 * records) it did the same for a record with two (25 ms instead of 0.35). The lookup is now a LATERAL subquery the
 * planner cannot turn into that join (liveRecordLookupSql); the server still sets DB_RANDOM_PAGE_COST (default 1.1)
 * for its other statements.
 */
const KNOWS = '00000000-0000-4000-8100-000000000004';
const REPORTS_TO = '00000000-0000-4000-8100-000000000003';
const NO_FILTER = { typeIds: null, direction: null, status: null, otherModule: null, activeOn: null, asOf: null };
let t: TestServer;
let viewers: string[];
let crowd: string[];

async function seed(server: TestServer): Promise<{ viewers: string[]; crowd: string[] }> {
  const rows = Array.from({ length: 300 }, (_, i) => ({ lastName: `Person ${String(i).padStart(3, '0')}` }));
  const res = await server.gql(`mutation($rows: [JSONObject!]!) { importRecords(module: "Contacts", rows: $rows) { rows { record { id } } } }`, { rows });
  const ids: string[] = res.body.data.importRecords.rows.map((r: { record: { id: string } }) => r.record.id);
  const [people, others] = [ids.slice(0, 200), ids.slice(200)];
  await server.sql(
    `INSERT INTO connections (type_id, source_id, target_id, "symmetric", created_by)
     SELECT $1, p.ids[i], p.ids[1 + ((i + 37 * k) % 200)], true, '00000000-0000-4000-8000-000000000001'
       FROM (SELECT $2::uuid[] AS ids) p, generate_series(1, 200) AS i, generate_series(1, 3) AS k`,
    [KNOWS, people],
  );
  await server.sql('ANALYZE records');
  await server.sql('ANALYZE connections');
  return { viewers: people.slice(0, 100), crowd: others };
}

/** The crowd: 100 other records, each reporting to every other one (9,900 connections, ~200 per crowd record). */
async function addCrowd(server: TestServer): Promise<void> {
  await server.sql(
    `INSERT INTO connections (type_id, source_id, target_id, created_by)
     SELECT $1, a, b, '00000000-0000-4000-8000-000000000001' FROM unnest($2::uuid[]) a, unnest($2::uuid[]) b WHERE a <> b`,
    [REPORTS_TO, crowd],
  );
  await server.sql('ANALYZE connections');
}

/** The plans of the loader's two statements (page, count) on the server's own pool: EXPLAIN in front of each. */
async function loaderPlans(server: TestServer, ids: string[]): Promise<string> {
  const plans: string[] = [];
  const explaining = {
    query: async (sql: string, params?: unknown[]) => {
      plans.push((await server.app.db.dataSource.query(`EXPLAIN ${sql}`, params)).map((r: Record<string, string>) => r['QUERY PLAN']).join('\n'));
      return [];
    },
  };
  await loadRecordConnectionSlices(explaining, ids, NO_FILTER, 10, null);
  await countRecordConnections(explaining, ids, NO_FILTER);
  return plans.join('\n');
}

/**
 * The generic plans of the loader's statements: the server prepares them once per connection (preparedQueriesOf),
 * and after five runs Postgres may keep one plan for every viewer list; forced here, on a connection of its own.
 */
async function genericPlans(server: TestServer, ids: string[]): Promise<string> {
  const statements: Array<{ sql: string; params: unknown[] }> = [];
  const capture = { query: async (sql: string, params: unknown[] = []) => { statements.push({ sql, params }); return []; } };
  await loadRecordConnectionSlices(capture, ids, NO_FILTER, 10, null);
  await countRecordConnections(capture, ids, NO_FILTER);
  const client = new Client({ connectionString: server.databaseUrl });
  await client.connect();
  try {
    await client.query('SET plan_cache_mode = force_generic_plan');
    await client.query('SET random_page_cost = 4');
    const plans: string[] = [];
    for (const [i, { sql, params }] of statements.entries()) {
      await client.query(`PREPARE loader_${i} AS ${sql}`);
      const args = params.map((p) => (Array.isArray(p) ? `'{${p.join(',')}}'` : `'${p}'`)).join(', ');
      plans.push((await client.query(`EXPLAIN EXECUTE loader_${i}(${args})`)).rows.map((r) => r['QUERY PLAN']).join('\n'));
    }
    return plans.join('\n');
  } finally {
    await client.end();
  }
}

function expectLookupsById(plan: string): void {
  expect(plan).not.toMatch(/Seq Scan on records/);
  expect(plan).not.toMatch(/Hash Join/);
  expect(plan).toMatch(/Index Scan using "PK_\w+" on records/);
}

beforeAll(async () => {
  t = await startTestServer('connection_page_plan');
  ({ viewers, crowd } = await seed(t));
});
afterAll(() => t.close());

describe('a small tenant\'s page of records with connections (100 records, 300 in the table)', () => {
  test('the server\'s connections price an index lookup for SSDs (DB_RANDOM_PAGE_COST, default 1.1)', async () => {
    expect(await t.app.db.dataSource.query('SHOW random_page_cost')).toEqual([{ random_page_cost: '1.1' }]);
  });

  test('each connection\'s other record is looked up by id (page and count), never by scanning every record for every viewer', async () => {
    expectLookupsById(await loaderPlans(t, viewers));
  });

  test('also with DB_RANDOM_PAGE_COST=0 (the database server\'s own 4), which made the join scan the records table', async () => {
    const other = await startTestServer('connection_page_plan_default', { DB_RANDOM_PAGE_COST: '0' }, t);
    try {
      expect(await other.app.db.dataSource.query('SHOW random_page_cost')).toEqual([{ random_page_cost: '4' }]);
      expectLookupsById(await loaderPlans(other, viewers));
    } finally {
      await other.close();
    }
  });

  test('skewed statistics: when most connections belong to a crowd of busy records, a record with a few still looks them up by id', async () => {
    await addCrowd(t);
    expectLookupsById(await loaderPlans(t, viewers.slice(0, 1)));
    expectLookupsById(await loaderPlans(t, viewers));
    expectLookupsById(await genericPlans(t, viewers));
    // and the answer is right: a viewer's page holds its own connections only, each with its other record
    const slices = await loadRecordConnectionSlices(t.app.db.dataSource, viewers.slice(0, 1), NO_FILTER, 10, null);
    const slice = [...slices.values()][0];
    const otherRecords = slice.views.map((view) => view.otherRecord!);
    expect(slice.views.length).toBe(6);
    expect(otherRecords.map((r) => r.id).every((id) => !crowd.includes(id))).toBe(true);
    expect(otherRecords.every((r) => r.module === 'Contacts' && r.label.startsWith('Person '))).toBe(true);
  });
});
