import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { loadConfig } from '../../src/core/config';
import { startApp, type RunningApp } from '../../src/app/server';
import { createTestDatabase } from './test-database';

export interface LoggedApp {
  app: RunningApp;
  databaseUrl: string;
  adminKey: string;
  stop(): Promise<void>;
}

/** A server on its own migrated database whose every pino line (at trace level) is pushed into `lines`, for log checks. */
export async function startLoggedApp(label: string, lines: string[]): Promise<LoggedApp> {
  const database = await createTestDatabase(label, { migrated: true });
  const adminKey = `cs_admin_${randomBytes(24).toString('base64url')}`;
  const sink = new Writable({ write(chunk, _encoding, done) { lines.push(...String(chunk).split('\n').filter(Boolean)); done(); } });
  const app = await startApp(loadConfig({
    NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', DATABASE_URL: database.url, ADMIN_API_KEY: adminKey, LOG_LEVEL: 'trace',
    DATA_DIR: mkdtempSync(join(tmpdir(), 'countersign-test-data-')), SECRET_KEY: randomBytes(32).toString('hex'),
  }), pino({ level: 'trace' }, sink));
  return { app, databaseUrl: database.url, adminKey, stop: async () => { await app.stop(); await database.drop(); } };
}
