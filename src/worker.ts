import 'reflect-metadata';
import { loadConfigOrExit, stopOnSignals } from './app/process-lifecycle';
import { createLogger } from './app/logger';
import { Metrics } from './core/metrics';
import { resolveSecretKey } from './app/secret-key';
import { createServices } from './app/services';
import { openDatabase } from './db/database';

/**
 * `npm run worker`: delivers queued OTP messages without serving HTTP. Run the API servers with OTP_WORKER=false
 * when deliveries should happen here only; both may also run workers at once (pg-boss hands each job to one).
 */
async function main(): Promise<void> {
  const config = { ...loadConfigOrExit(), OTP_WORKER: true };
  const log = createLogger(config.LOG_LEVEL);
  const db = await openDatabase({
    url: config.DATABASE_URL, dataDir: config.DATA_DIR, embeddedPort: config.EMBEDDED_PG_PORT, poolSize: config.DB_POOL_SIZE,
    idleInTransactionTimeoutMs: config.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS, runMigrations: config.MIGRATIONS_RUN, log,
  });
  const services = createServices(db.dataSource, { config, secretKey: resolveSecretKey(config.SECRET_KEY, config.DATA_DIR), log, metrics: new Metrics() });
  await services.start();
  log.info('OTP delivery worker started');
  stopOnSignals(log, 'running deliveries', config.SHUTDOWN_TIMEOUT_MS, () => services.stop().then(() => db.close()));
}

main().catch((error) => {
  process.stderr.write(`The OTP worker failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
