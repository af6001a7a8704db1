import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres';

/**
 * Tests use TEST_DATABASE_URL (or DATABASE_URL) when set, and otherwise start the embedded Postgres once for the
 * run. Each test file then creates and drops its own database on that server (see test/support/test-server.ts).
 */
export default async function globalSetup(): Promise<void> {
  let url = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
  if (!url) {
    const dir = mkdtempSync(join(tmpdir(), 'countersign-test-pg-'));
    const embedded = await startEmbeddedPostgres({ dir, port: await freePort(), persistent: false });
    (globalThis as Record<string, unknown>).__COUNTERSIGN_EMBEDDED_PG__ = embedded;
    url = embedded.url;
  }
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw new Error(`The test database server at ${redact(url)} is unreachable: ${(error as Error).message}. Unset TEST_DATABASE_URL/DATABASE_URL to use the embedded Postgres.`);
  } finally {
    await client.end().catch(() => undefined);
  }
  process.env.TEST_DATABASE_URL = url;
  delete process.env.DATABASE_URL;
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
