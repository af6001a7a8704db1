import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { loadConfig } from '../../src/core/config';
import { startApp, type RunningApp } from '../../src/app/server';
import { createTestDatabase } from './test-database';

export interface GraphQLResponse<T = any> {
  status: number;
  body: any;
  headers: Headers;
}

export interface TestServer {
  app: RunningApp;
  url: string;
  databaseUrl: string;
  adminKey: string;
  /** The SECRET_KEY this instance runs with (instances sharing a database share it, as they must in production). */
  secretKey: string;
  /** POSTs a GraphQL operation as the admin unless `key` says otherwise (null: no Authorization header). */
  gql<T = any>(query: string, variables?: Record<string, unknown>, options?: { key?: string | null; headers?: Record<string, string> }): Promise<GraphQLResponse<T>>;
  /** Runs SQL directly against this test's database, to check what was (not) written. */
  sql<T = any>(text: string, params?: unknown[]): Promise<T[]>;
  /** Creates a user with the given role and returns an API key for it. */
  keyFor(role: 'ADMIN' | 'USER' | 'READONLY', profile?: string): Promise<{ key: string; userId: string }>;
  close(): Promise<void>;
}

/**
 * Starts the real server on a fresh database of its own; with `shareWith`, a second instance on that server's
 * database (same admin key), as several instances run in production. Closing the sharing instance keeps the database.
 */
export async function startTestServer(label: string, env: Record<string, string> = {}, shareWith?: TestServer): Promise<TestServer> {
  const database = shareWith ? { url: shareWith.databaseUrl, drop: async () => undefined } : await createTestDatabase(label, { migrated: true });
  const adminKey = shareWith?.adminKey ?? `cs_admin_${randomBytes(24).toString('base64url')}`;
  const secretKey = shareWith?.secretKey ?? randomBytes(32).toString('hex');
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: database.url,
    DATA_DIR: mkdtempSync(join(tmpdir(), 'countersign-test-data-')),
    SECRET_KEY: secretKey,
    ADMIN_API_KEY: adminKey,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DB_POOL_SIZE: '20',
    ...env,
  });
  const app = await startApp(config);
  const client = new Client({ connectionString: database.url });
  await client.connect();

  const gql = async (query: string, variables?: Record<string, unknown>, options: { key?: string | null; headers?: Record<string, string> } = {}): Promise<GraphQLResponse> => {
    const key = options.key === undefined ? adminKey : options.key;
    const response = await fetch(app.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...options.headers },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, body: (await response.json()) as GraphQLResponse["body"], headers: response.headers };
  };

  let users = 0;
  return {
    app,
    url: app.url,
    databaseUrl: database.url,
    adminKey,
    secretKey: config.SECRET_KEY ?? secretKey,
    gql,
    sql: async (text, params) => (await client.query(text, params as unknown[])).rows,
    async keyFor(role, profile = 'Standard') {
      users += 1;
      const email = `${role.toLowerCase()}${users}-${randomBytes(3).toString('hex')}@example.com`;
      const created = await gql(`mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } userErrors { message } } }`,
        { input: { email, name: `${role} ${users}`, role, profile } });
      const userId = created.body.data.createUser.user.id;
      const key = await gql(`mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key } }`, { input: { userId, name: 'test' } });
      return { key: key.body.data.createApiKey.key, userId };
    },
    async close() {
      await client.end();
      await app.stop();
      await database.drop();
    },
  };
}
