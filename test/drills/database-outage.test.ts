import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { loadConfig } from '../../src/core/config';
import { startApp, type RunningApp } from '../../src/app/server';
import { createTestDatabase } from '../support/test-database';
import { TcpProxy } from '../support/tcp-proxy';

const TOTAL = Number(process.env.OUTAGE_REQUESTS ?? (process.env.DRILLS === 'full' ? 2000 : 400));
const WORKERS = 10;

test(`database outage under load (${TOTAL} creates): fast clear failures, readiness 503, recovery without restart, nothing reported saved is lost`, async () => {
  const db = await createTestDatabase('outage');
  const target = new URL(db.url);
  const proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
  const viaProxy = new URL(db.url);
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(await proxy.start());
  const adminKey = `cs_admin_${randomBytes(24).toString('base64url')}`;
  let app: RunningApp | null = null;
  const direct = new Client({ connectionString: db.url });
  try {
    app = await startApp(loadConfig({
      NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', DATABASE_URL: viaProxy.toString(), ADMIN_API_KEY: adminKey, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      DATA_DIR: mkdtempSync(join(tmpdir(), 'countersign-outage-')), SECRET_KEY: randomBytes(32).toString('hex'),
    }));
    const url = app.graphqlUrl;
    const saved: string[] = [];
    const failures: Array<{ status: number; code: string; ms: number }> = [];
    let sent = 0;
    let outage: 'before' | 'during' | 'after' = 'before';
    const readyDuring: number[] = [];

    const worker = async (n: number) => {
      while (sent < TOTAL) {
        const i = sent++;
        if (i === Math.floor(TOTAL / 3) && outage === 'before') {
          outage = 'during';
          await proxy.cut();
          readyDuring.push((await fetch(`${app!.url}/readyz`)).status);
        }
        if (i === Math.floor((2 * TOTAL) / 3) && outage === 'during') {
          await proxy.restore();
          outage = 'after';
        }
        const started = Date.now();
        const res = await fetch(url, {
          method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` },
          body: JSON.stringify({ query: `mutation { createRecord(module: "Contacts", fields: { lastName: "Outage ${n}-${i}" }) { record { id } userErrors { code } } }` }),
        });
        const body = (await res.json()) as any;
        const id = body.data?.createRecord?.record?.id;
        if (id) saved.push(id);
        else failures.push({ status: res.status, code: body.errors?.[0]?.extensions?.code, ms: Date.now() - started });
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, (_, n) => worker(n)));

    expect(readyDuring).toEqual([503]);
    expect(failures.length).toBeGreaterThan(0);
    for (const failure of failures) {
      expect(failure).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE' });
      expect(failure.ms).toBeLessThan(6000); // bounded by the pool's connect timeout, never a hang
    }
    expect(saved.length + failures.length).toBe(TOTAL);
    expect(saved.length).toBeGreaterThan(TOTAL / 3);

    // The same process serves again, and every create it reported is stored.
    expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
    await direct.connect();
    const { rows } = await direct.query('SELECT id FROM records WHERE id = ANY($1::uuid[])', [saved]);
    expect(rows).toHaveLength(saved.length);
    console.log(`outage drill: ${TOTAL} creates, ${saved.length} saved and all found, ${failures.length} answered 503 SERVICE_UNAVAILABLE (slowest ${Math.max(...failures.map((f) => f.ms))} ms)`);
  } finally {
    await direct.end().catch(() => undefined);
    await app?.stop();
    await proxy.cut();
    await db.drop();
  }
}, 120_000);
