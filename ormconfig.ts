import 'reflect-metadata';
import { join } from 'node:path';
import { DataSource, type LoggerOptions } from 'typeorm';
import { entities } from './src/db/entities';

export interface DataSourceOptions {
  url: string;
  poolSize?: number;
  applicationName?: string;
  logging?: LoggerOptions;
  /** Postgres `statement_timeout` of every pool connection, in ms (unset or 0: none). */
  statementTimeoutMs?: number;
  /** Postgres `idle_in_transaction_session_timeout` of every pool connection, in ms (unset or 0: none). */
  idleInTransactionTimeoutMs?: number;
  /** Postgres `random_page_cost` of every pool connection (unset or 0: the server's). */
  randomPageCost?: number;
}

/** The one TypeORM DataSource definition, used by the app, the tests and the TypeORM CLI. Schema changes go through migrations only. */
export function createDataSource(options: DataSourceOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url: options.url,
    entities,
    migrations: [join(__dirname, 'migrations', '*.{ts,js}')],
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    uuidExtension: 'pgcrypto',
    logging: options.logging ?? false,
    extra: {
      max: options.poolSize ?? 10,
      application_name: options.applicationName ?? 'countersign',
      connectionTimeoutMillis: 5000,
      // sent at connection start, so it holds for every statement on every connection of the pool
      ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
      // a transaction a hung request left open is ended by Postgres (its row locks, e.g. on shared rate-limit rows,
      // freed); TypeORM's query runner hears its connection's error and releases it to the pool as broken
      ...(options.idleInTransactionTimeoutMs ? { idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs } : {}),
      // planner costs, also at connection start: with Postgres's default 4, a page of records with their connections
      // scanned every record once per record on the page while the table was small (docs/limits.md)
      ...(options.randomPageCost ? { options: `-c random_page_cost=${options.randomPageCost}` } : {}),
    },
  });
}

/** For the TypeORM CLI (`npm run migration:*`), which is started with DATABASE_URL set by src/db/migration-cli.ts. */
export default createDataSource({ url: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', poolSize: 2 });
