import { startTestServer, type TestServer } from '../support/test-server';

let t: TestServer;
beforeAll(async () => { t = await startTestServer('conn_migration'); });
afterAll(() => t.close());

describe('connections migration: successful cases', () => {
  test('the entities match the migrated schema (TypeORM plans no change)', async () => {
    const plan = await t.app.db.dataSource.driver.createSchemaBuilder().log();
    expect(plan.upQueries.map((q) => q.query)).toEqual([]);
  });

  test('the eight default types of SPEC §7 are seeded as system types', async () => {
    const rows = await t.sql(`SELECT name, inverse_name, "symmetric", source_modules, target_modules, is_system, active
                                FROM connection_types ORDER BY id`);
    expect(rows.map((r) => [r.name, r.inverse_name, r.symmetric, `${r.source_modules}->${r.target_modules}`])).toEqual([
      ['parent of', 'child of', false, 'Contacts->Contacts'],
      ['spouse', 'spouse', true, 'Contacts->Contacts'],
      ['reports to', 'manager of', false, 'Contacts->Contacts'],
      ['knows', 'knows', true, 'Contacts->Contacts'],
      ['previously worked at', 'previously employed', false, 'Contacts->Organizations'],
      ['is working at', 'employs', false, 'Contacts->Organizations'],
      ['board member of', 'has board member', false, 'Contacts->Organizations'],
      ['consultant at', 'has consultant', false, 'Contacts->Organizations'],
    ]);
    expect(rows.every((r) => r.is_system && r.active)).toBe(true);
  });

  test('the migration reverts and re-applies cleanly', async () => {
    const ds = t.app.db.dataSource;
    // Later migrations are reverted first, down to and including this one.
    for (let i = 0; i < ds.migrations.length && (await t.sql(`SELECT to_regclass('connections') AS c`))[0].c; i += 1) {
      await ds.undoLastMigration({ transaction: 'each' });
    }
    expect(await t.sql(`SELECT to_regclass('connections') AS c, to_regclass('connection_types') AS ct`)).toEqual([{ c: null, ct: null }]);
    await ds.runMigrations({ transaction: 'each' });
    expect((await t.sql('SELECT count(*)::int AS n FROM connection_types'))[0].n).toBe(8);
  });
});
