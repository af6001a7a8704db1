import { join } from 'node:path';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { createDataSource } from '../../ormconfig';
import { startEmbeddedPostgres } from './embedded-postgres';

export interface DatabaseOptions {
  url?: string;
  dataDir: string;
  embeddedPort: number;
  poolSize: number;
  /** Postgres `statement_timeout` of the pool's connections (ms; 0 or unset: none). Migrations are not bound by it. */
  statementTimeoutMs?: number;
  /** Postgres `idle_in_transaction_session_timeout` of the pool's connections (ms; 0 or unset: none). */
  idleInTransactionTimeoutMs?: number;
  /** Postgres `random_page_cost` of the pool's connections (0 or unset: the server's). */
  randomPageCost?: number;
  runMigrations: boolean;
  log: Logger;
}

export interface Database {
  dataSource: DataSource;
  url: string;
  embedded: boolean;
  close(): Promise<void>;
}

const EMBEDDED_DATABASE = 'countersign';
const MIGRATION_LOCK = 7_310_201; // pg_advisory_lock key: one instance migrates at a time

/** Connects to DATABASE_URL, or starts the embedded Postgres under DATA_DIR, and brings the schema up to date. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  let url = options.url;
  let stopEmbedded: (() => Promise<void>) | null = null;
  if (!url) {
    const started = Date.now();
    const embedded = await startEmbeddedPostgres({
      dir: join(options.dataDir, 'postgres'),
      port: options.embeddedPort,
      onLog: (line) => options.log.debug({ postgres: line }, 'embedded postgres'),
    });
    stopEmbedded = embedded.stop;
    if (embedded.notice) options.log.warn({ pgdata: embedded.pgdata }, embedded.notice);
    url = await ensureDatabase(embedded.url, EMBEDDED_DATABASE);
    options.log.info({ port: options.embeddedPort, ms: Date.now() - started, pgdata: embedded.pgdata, binaries: embedded.binaries }, 'embedded postgres started');
  }
  const dataSource = createDataSource({
    url, poolSize: options.poolSize, statementTimeoutMs: options.statementTimeoutMs,
    idleInTransactionTimeoutMs: options.idleInTransactionTimeoutMs, randomPageCost: options.randomPageCost,
  });
  try {
    if (options.runMigrations) await migrate(url, options.log);
    await dataSource.initialize();
  } catch (error) {
    if (dataSource.isInitialized) await dataSource.destroy();
    if (stopEmbedded) await stopEmbedded();
    throw error;
  }
  return {
    dataSource,
    url,
    embedded: stopEmbedded !== null,
    async close() {
      if (dataSource.isInitialized) await dataSource.destroy();
      if (stopEmbedded) await stopEmbedded();
    },
  };
}

/**
 * Migrations run on connections of their own, without the pool's statement timeout: a migration may rightly take
 * long, and waiting for another instance's migration lock must not time out.
 */
async function migrate(url: string, log: Logger): Promise<void> {
  const migrations = createDataSource({ url, poolSize: 2, applicationName: 'countersign-migrations' });
  await migrations.initialize();
  try {
    await runMigrations(migrations, log);
  } finally {
    await migrations.destroy();
  }
}

export async function runMigrations(dataSource: DataSource, log?: Logger): Promise<void> {
  const runner = dataSource.createQueryRunner();
  try {
    await runner.connect();
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    if (applied.length) log?.info({ migrations: applied.map((m) => m.name) }, 'migrations applied');
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await runner.release();
  }
}

/** Creates `name` on the server behind `url` when missing; returns the URL of that database. */
export async function ensureDatabase(url: string, name: string): Promise<string> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
  const target = new URL(url);
  target.pathname = `/${name}`;
  return target.toString();
}
