import 'reflect-metadata';
import { ConfigError, loadConfig } from './app/config';
import { createLogger } from './app/logger';
import { Metrics } from './app/metrics';
import { resolveSecretKey } from './app/secret-key';
import { createServices } from './app/services';
import { openDatabase } from './db/database';

/**
 * `npm run worker`: delivers queued OTP messages without serving HTTP. Run the API servers with OTP_WORKER=false
 * when deliveries should happen here only; both may also run workers at once (pg-boss hands each job to one).
 */
async function main(): Promise<void> {
  let config;
  try {
    config = { ...loadConfig(), OTP_WORKER: true };
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
  const log = createLogger(config.LOG_LEVEL);
  const db = await openDatabase({
    url: config.DATABASE_URL, dataDir: config.DATA_DIR, embeddedPort: config.EMBEDDED_PG_PORT, poolSize: config.DB_POOL_SIZE,
    runMigrations: config.MIGRATIONS_RUN, log,
  });
  const services = createServices(db.dataSource, { config, secretKey: resolveSecretKey(config.SECRET_KEY, config.DATA_DIR), log, metrics: new Metrics() });
  await services.start();
  log.info('OTP delivery worker started');

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'worker shutting down: finishing running deliveries');
    services.stop().then(() => db.close()).then(
      () => process.exit(0),
      (error) => { log.error({ err: error }, 'error while stopping the worker'); process.exit(1); },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error) => {
  process.stderr.write(`The OTP worker failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
