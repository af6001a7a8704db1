import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import PgBoss from 'pg-boss';
import { createDataSource } from '../../ormconfig';
import { runMigrations } from '../../src/db/database';

/** Set by global-setup: the migrated database every `{ migrated: true }` test database is cloned from. */
export const TEMPLATE_ENV = 'TEST_TEMPLATE_DATABASE';
const STALE_TEMPLATE_MS = 24 * 3600_000;

/**
 * A database of its own for one test file, on the server chosen by global-setup; dropped afterwards. `migrated`
 * clones the run's migrated template (`CREATE DATABASE … TEMPLATE`), much faster than migrating again; without it
 * the database is empty, for tests of the migrations themselves.
 */
export async function createTestDatabase(label: string, options: { migrated?: boolean } = {}): Promise<{ url: string; drop(): Promise<void> }> {
  const serverUrl = process.env.TEST_DATABASE_URL!;
  const name = `cs_test_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase().slice(0, 30)}_${randomBytes(4).toString('hex')}`;
  const template = options.migrated ? process.env[TEMPLATE_ENV] : undefined;
  if (options.migrated && !template) throw new Error(`${TEMPLATE_ENV} is not set: run the tests through jest (test/support/global-setup.ts creates it).`);
  await admin(serverUrl, template ? `CREATE DATABASE "${name}" TEMPLATE "${template}"` : `CREATE DATABASE "${name}"`);
  return {
    url: databaseUrl(serverUrl, name),
    drop: () => admin(serverUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}

/**
 * Creates and migrates the run's template. It then refuses connections, so no session can be left on it: a clone
 * fails while anyone is connected to its template.
 */
export async function createTemplateDatabase(serverUrl: string): Promise<string> {
  await dropStaleTemplates(serverUrl);
  const name = `cs_template_${Date.now()}_${randomBytes(4).toString('hex')}`;
  await admin(serverUrl, `CREATE DATABASE "${name}"`);
  try {
    // Two connections: runMigrations holds one for its advisory lock while the migrations run on the other.
    const dataSource = createDataSource({ url: databaseUrl(serverUrl, name), poolSize: 2, applicationName: 'countersign-test-template' });
    await dataSource.initialize();
    try {
      await runMigrations(dataSource);
    } finally {
      await dataSource.destroy();
    }
    // pg-boss's schema too: every server start would otherwise create it (the queue itself stays per server).
    const boss = new PgBoss({ connectionString: databaseUrl(serverUrl, name), schedule: false, supervise: false, max: 1 });
    await boss.start();
    await boss.stop({ graceful: false, wait: true });
    await admin(serverUrl, `ALTER DATABASE "${name}" ALLOW_CONNECTIONS false`);
    // A closed pool's backends may still be exiting; CREATE DATABASE would wait for them, this makes it not need to.
    await admin(serverUrl, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}'`);
  } catch (error) {
    await dropTemplateDatabase(serverUrl, name).catch(() => undefined);
    throw error;
  }
  return name;
}

/** Templates of runs that were killed before their teardown (a day old: no run still uses them). */
async function dropStaleTemplates(serverUrl: string): Promise<void> {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname ~ '^cs_template_[0-9]+_[0-9a-f]+$'");
    const stale = rows.map((r) => r.datname).filter((name) => Number(name.split('_')[2]) < Date.now() - STALE_TEMPLATE_MS);
    for (const name of stale) await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

export async function dropTemplateDatabase(serverUrl: string, name: string): Promise<void> {
  await admin(serverUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
}

function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin(url: string, sql: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
