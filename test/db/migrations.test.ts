import { createDataSource } from '../../ormconfig';
import { runMigrations } from '../../src/db/database';
import { createTestDatabase } from '../support/test-database';

const tables = async (ds: ReturnType<typeof createDataSource>) =>
  (await ds.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'migrations' ORDER BY 1`))
    .map((r: { table_name: string }) => r.table_name);

test('every migration runs down and up again on an empty database, and the entities match the migrated schema', async () => {
  const db = await createTestDatabase('migrations');
  const ds = createDataSource({ url: db.url, poolSize: 2 });
  await ds.initialize();
  try {
    await runMigrations(ds);
    const migrated = await tables(ds);
    expect(migrated).toEqual(expect.arrayContaining(['api_keys', 'records', 'users']));
    expect(await ds.driver.createSchemaBuilder().log()).toEqual(expect.objectContaining({ upQueries: [] }));

    const applied = (await ds.query('SELECT count(*)::int AS n FROM migrations'))[0].n;
    expect(applied).toBe(ds.migrations.length);
    for (let i = 0; i < applied; i += 1) await ds.undoLastMigration({ transaction: 'each' });
    expect(await tables(ds)).toEqual([]);

    await runMigrations(ds);
    expect(await tables(ds)).toEqual(migrated);
    const admins = await ds.query("SELECT email, role FROM users WHERE id = '00000000-0000-4000-8000-000000000001'");
    expect(admins).toEqual([{ email: 'admin@countersign.local', role: 'ADMIN' }]);
  } finally {
    await ds.destroy();
    await db.drop();
  }
});
