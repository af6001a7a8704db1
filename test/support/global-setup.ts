import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres';
import { COMPILED_ENV, removeTranspiled, transpileServer } from './compiled';
import { TEMPLATE_ENV, createTemplateDatabase, dropTemplateDatabase } from './test-database';

export interface TestPostgres {
  serverUrl: string;
  template: string;
  compiled: string;
  embedded?: { stop(): Promise<void> };
}

const STATE = '__COUNTERSIGN_TEST_PG__';

/**
 * Tests use TEST_DATABASE_URL (or DATABASE_URL) when set, and otherwise start the embedded Postgres once for the
 * run. There a migrated template database is created once; each test file clones it into a database of its own
 * (see test/support/test-database.ts). It also transpiles the server once, for the tests that start it as a child
 * process (test/support/compiled.ts). The integration and drills projects share this setup: it runs once per jest
 * process even when both are selected.
 */
export default async function globalSetup(): Promise<void> {
  const shared = globalThis as Record<string, unknown>;
  if (shared[STATE]) return;
  let url = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
  let embedded: TestPostgres['embedded'];
  if (!url) {
    const dir = mkdtempSync(join(tmpdir(), 'countersign-test-pg-'));
    const started = await startEmbeddedPostgres({ dir, port: await freePort(), persistent: false });
    embedded = started;
    url = started.url;
  }
  try {
    await assertReachable(url);
    const compiled = transpileServer();
    const template = await createTemplateDatabase(url);
    shared[STATE] = { serverUrl: url, template, compiled, embedded } satisfies TestPostgres;
    process.env.TEST_DATABASE_URL = url;
    process.env[TEMPLATE_ENV] = template;
    process.env[COMPILED_ENV] = compiled;
    delete process.env.DATABASE_URL;
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
}

async function assertReachable(url: string): Promise<void> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw new Error(`The test database server at ${redact(url)} is unreachable: ${(error as Error).message}. Unset TEST_DATABASE_URL/DATABASE_URL to use the embedded Postgres.`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Called by global-teardown once the run is over. */
export async function stopTestPostgres(): Promise<void> {
  const shared = globalThis as Record<string, unknown>;
  const state = shared[STATE] as TestPostgres | undefined;
  if (!state) return;
  delete shared[STATE];
  removeTranspiled(state.compiled);
  try {
    await dropTemplateDatabase(state.serverUrl, state.template);
  } finally {
    await state.embedded?.stop();
  }
}

function redact(url: string): string {
  return url.replace(/:\/\/([^:@/]+):[^@/]*@/, '://$1:***@');
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
