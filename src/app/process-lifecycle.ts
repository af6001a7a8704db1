import type { Logger } from 'pino';
import { ConfigError, loadConfig, type AppConfig } from '../core/config';

/** Loads the configuration, or prints one line per bad variable and exits 78 (EX_CONFIG). */
export function loadConfigOrExit(): AppConfig {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
}

/**
 * On SIGTERM or SIGINT, runs `stop` once and exits 0 (1 if it fails); a stop that outlasts `graceMs` + 5 s exits 1.
 * Used by the server and the worker, so both drain the same way.
 */
export function stopOnSignals(log: Logger, what: string, graceMs: number, stop: () => Promise<void>): void {
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, `shutting down: finishing ${what}`);
    setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, graceMs + 5000).unref();
    stop().then(
      () => { log.info('stopped'); process.exit(0); },
      (error) => { log.error({ err: error }, 'error while stopping'); process.exit(1); },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}
