import { createDataSource } from '../../ormconfig';
import { runMigrations } from '../../src/db/database';
import { createTestDatabase } from '../support/test-database';

test('entities match the migrations, and the Otp migration reverts and re-applies', async () => {
  const database = await createTestDatabase('otp_schema');
  const dataSource = createDataSource({ url: database.url, poolSize: 2 });
  try {
    await dataSource.initialize();
    await runMigrations(dataSource);
    const diff = await dataSource.driver.createSchemaBuilder().log();
    expect(diff.upQueries.map((q) => q.query)).toEqual([]);
    // Later migrations are reverted first, down to and including the Otp one.
    for (let i = 0; i < dataSource.migrations.length && (await dataSource.query(`SELECT to_regclass('otp_requests') AS t`))[0].t; i += 1) {
      await dataSource.undoLastMigration({ transaction: 'each' });
    }
    const tables = await dataSource.query(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name IN ('otp_requests', 'otp_deliveries', 'message_templates', 'otp_rate_limits')`);
    expect(tables[0].n).toBe(0);
    await runMigrations(dataSource);
    const seeded = await dataSource.query('SELECT id FROM message_templates ORDER BY id');
    expect(seeded.map((r: { id: string }) => r.id)).toEqual(['otp_email', 'otp_rule_email', 'otp_rule_sms', 'otp_sms', 'otp_whatsapp']); // with the OTP rule defaults
  } finally {
    await dataSource.destroy();
    await database.drop();
  }
});
