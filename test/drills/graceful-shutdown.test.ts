import http from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { spawnServer } from '../support/process';
import { freePort } from '../support/global-setup';
import { createTestDatabase } from '../support/test-database';

const CONCURRENT = 20;

/** A create whose body is held back until `release()`: in flight from the server's point of view once `accepted`. */
function heldRequest(port: number, key: string, n: number) {
  const body = JSON.stringify({ query: `mutation { createRecord(module: "Contacts", fields: { lastName: "Drain ${n}" }) { record { id } } }` });
  const req = http.request({
    host: '127.0.0.1', port, path: '/graphql', method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${key}`, expect: '100-continue' },
  });
  const accepted = new Promise<void>((resolve, reject) => { req.once('continue', resolve); req.once('error', reject); });
  const done = new Promise<{ status: number; id: string | null }>((resolve, reject) => {
    req.once('error', reject);
    req.once('response', (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, id: JSON.parse(text).data?.createRecord?.record?.id ?? null }));
    });
  });
  req.flushHeaders();
  return { accepted, done, release: () => req.end(body) };
}

test(`SIGTERM with ${CONCURRENT} requests in flight: all complete, new connections are refused, exit 0 within the grace period`, async () => {
  const db = await createTestDatabase('drain');
  const port = await freePort();
  const key = `cs_admin_${'d'.repeat(40)}`;
  const server = spawnServer({ DATABASE_URL: db.url, PORT: String(port), HOST: '127.0.0.1', ADMIN_API_KEY: key, DATA_DIR: mkdtempSync(join(tmpdir(), 'cs-drain-')), SHUTDOWN_TIMEOUT_MS: '10000' });
  const client = new Client({ connectionString: db.url });
  try {
    await server.waitFor(/GraphQL endpoint/);
    const held = Array.from({ length: CONCURRENT }, (_, n) => heldRequest(port, key, n));
    await Promise.all(held.map((h) => h.accepted));
    const signalledAt = Date.now();
    server.child.kill('SIGTERM');
    await server.waitFor(/shutting down/);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow(); // no new connections
    held.forEach((h) => h.release());
    const answers = await Promise.all(held.map((h) => h.done));
    expect(answers.every((a) => a.status === 200 && a.id)).toBe(true);
    const exit = await server.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalledAt).toBeLessThan(10_000);
    await client.connect();
    const { rows } = await client.query('SELECT count(*)::int AS n FROM records WHERE id = ANY($1::uuid[])', [answers.map((a) => a.id)]);
    expect(rows[0].n).toBe(CONCURRENT);
  } finally {
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
    await client.end().catch(() => undefined);
    await db.drop();
  }
}, 60_000);
