import { loadRecordConnectionSlices } from '../../src/connections/connection.query';
import { startTestServer, type TestServer } from '../support/test-server';

/**
 * A page of records with their connections is one statement per page (the loader). On a small `records` table and
 * Postgres's default `random_page_cost` (4, priced for spinning disks) the planner hashed each record's few
 * connections and scanned the whole records table for every record on the page: 200 records × 100 viewers × 2 sides,
 * 24 ms a page instead of about 2. The server's connections set DB_RANDOM_PAGE_COST (default 1.1), so the other record
 * is looked up by its primary key whatever the table's size.
 */
const KNOWS = '00000000-0000-4000-8100-000000000004';
let t: TestServer;
let viewers: string[];

async function seed(server: TestServer): Promise<string[]> {
  const rows = Array.from({ length: 200 }, (_, i) => ({ lastName: `Person ${String(i).padStart(3, '0')}` }));
  const res = await server.gql(`mutation($rows: [JSONObject!]!) { importRecords(module: "Contacts", rows: $rows) { rows { record { id } } } }`, { rows });
  const ids: string[] = res.body.data.importRecords.rows.map((r: { record: { id: string } }) => r.record.id);
  await server.sql(
    `INSERT INTO connections (type_id, source_id, target_id, "symmetric", created_by)
     SELECT $1, p.ids[i], p.ids[1 + ((i + 37 * k) % 200)], true, '00000000-0000-4000-8000-000000000001'
       FROM (SELECT $2::uuid[] AS ids) p, generate_series(1, 200) AS i, generate_series(1, 3) AS k`,
    [KNOWS, ids],
  );
  await server.sql('ANALYZE records');
  await server.sql('ANALYZE connections');
  return ids.slice(0, 100);
}

/** The loader's plan on the server's own pool (so with its connection settings): EXPLAIN in front of its statement. */
async function loaderPlan(server: TestServer, ids: string[]): Promise<string> {
  let plan = '';
  const explaining = {
    query: async (sql: string, params?: unknown[]) => {
      plan = (await server.app.db.dataSource.query(`EXPLAIN ${sql}`, params)).map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
      return [];
    },
  };
  await loadRecordConnectionSlices(explaining, ids, { typeIds: null, direction: null, status: null, otherModule: null, activeOn: null, asOf: null }, 10, null);
  return plan;
}

beforeAll(async () => {
  t = await startTestServer('connection_page_plan');
  viewers = await seed(t);
});
afterAll(() => t.close());

describe('a small tenant\'s page of records with connections (100 records, 200 in the table)', () => {
  test('the server\'s connections price an index lookup for SSDs (DB_RANDOM_PAGE_COST, default 1.1)', async () => {
    expect(await t.app.db.dataSource.query('SHOW random_page_cost')).toEqual([{ random_page_cost: '1.1' }]);
  });

  test('each connection\'s other record is looked up by id, never by scanning every record for every viewer', async () => {
    const plan = await loaderPlan(t, viewers);
    expect(plan).not.toMatch(/Seq Scan on records/);
    expect(plan).toMatch(/Index Scan using "PK_\w+" on records/);
  });

  test('with DB_RANDOM_PAGE_COST=0 (the database server\'s own 4) the same statement scans the records table: the setting is what makes the difference', async () => {
    const other = await startTestServer('connection_page_plan_default', { DB_RANDOM_PAGE_COST: '0' }, t);
    try {
      expect(await other.app.db.dataSource.query('SHOW random_page_cost')).toEqual([{ random_page_cost: '4' }]);
      expect(await loaderPlan(other, viewers)).toMatch(/Seq Scan on records/);
    } finally {
      await other.close();
    }
  });
});
