/**
 * `npm run migration:run|revert|generate|show`: runs the TypeORM CLI on ormconfig.ts against DATABASE_URL,
 * or against the embedded Postgres under DATA_DIR when none is set.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfigOrExit } from '../app/process-lifecycle';
import { ensureDatabase } from './database';
import { EmbeddedPostgresError, startEmbeddedPostgres } from './embedded-postgres';

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  const config = loadConfigOrExit();
  let url = config.DATABASE_URL;
  let stop: (() => Promise<void>) | null = null;
  if (!url) {
    const embedded = await startEmbeddedPostgres({ dir: join(config.DATA_DIR, 'postgres'), port: config.EMBEDDED_PG_PORT });
    stop = embedded.stop;
    if (embedded.notice) process.stderr.write(`${embedded.notice}\n`);
    url = await ensureDatabase(embedded.url, 'countersign');
  }
  const args = command === 'migration:generate'
    ? [command, join('migrations', rest[0] ?? 'Migration'), '--pretty', ...rest.slice(1)]
    : [command, ...rest];
  const cli = join(process.cwd(), 'node_modules', 'typeorm', 'cli-ts-node-commonjs.js');
  const result = spawnSync(process.execPath, [cli, '-d', 'ormconfig.ts', ...args], {
    stdio: 'inherit',
    env: { ...process.env, DATABASE_URL: url, TS_NODE_TRANSPILE_ONLY: 'true' },
  });
  if (stop) await stop();
  process.exitCode = result.status ?? 1;
}

main().catch((error) => {
  if (error instanceof EmbeddedPostgresError) process.stderr.write(`${error.message}\n`); // says what to do, in one line
  else pino().error({ err: error }, 'migration command failed');
  process.exit(1);
});
