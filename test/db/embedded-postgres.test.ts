import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Pool } from 'pg';
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../support/global-setup';

// What later features rely on, checked on the embedded engine itself (not on TEST_DATABASE_URL's server).
let child: ChildProcess;
const pg = { url: '' };
beforeAll(async () => {
  child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, '..', 'support', 'run-embedded.ts'),
    mkdtempSync(join(tmpdir(), 'countersign-embedded-caps-')), String(await freePort())], { stdio: ['ignore', 'pipe', 'inherit'] });
  pg.url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c) => { out += c; const line = out.split('\n')[0]; if (out.includes('\n')) resolve(JSON.parse(line).url); });
    child.on('exit', (code) => reject(new Error(`embedded Postgres exited with ${code}`)));
  });
}, 60_000);
afterAll(async () => {
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGTERM');
  await exited;
});

test('the embedded engine serves many concurrent connections', async () => {
  const pool = new Pool({ connectionString: pg.url, max: 20 });
  try {
    const pids = await Promise.all(Array.from({ length: 20 }, () => pool.query('SELECT pg_backend_pid() AS pid, pg_sleep(0.05)').then((r) => r.rows[0].pid)));
    expect(new Set(pids).size).toBe(20);
  } finally {
    await pool.end();
  }
});

test('FOR UPDATE SKIP LOCKED hands each row to one worker', async () => {
  const pool = new Pool({ connectionString: pg.url, max: 4 });
  try {
    await pool.query('CREATE TABLE jobs (id int PRIMARY KEY)');
    await pool.query('INSERT INTO jobs SELECT generate_series(1, 4)');
    const a = await pool.connect();
    const b = await pool.connect();
    await a.query('BEGIN');
    await b.query('BEGIN');
    const first = await a.query('SELECT id FROM jobs ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 2');
    const second = await b.query('SELECT id FROM jobs ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 2');
    expect(first.rows.map((r) => r.id)).toEqual([1, 2]);
    expect(second.rows.map((r) => r.id)).toEqual([3, 4]);
    await a.query('ROLLBACK');
    await b.query('ROLLBACK');
    a.release();
    b.release();
  } finally {
    await pool.end();
  }
});

test('LISTEN/NOTIFY delivers across connections', async () => {
  const listener = new Client({ connectionString: pg.url });
  const notifier = new Client({ connectionString: pg.url });
  await listener.connect();
  await notifier.connect();
  try {
    const received = new Promise<string>((resolve) => listener.on('notification', (n) => resolve(n.payload ?? '')));
    await listener.query('LISTEN countersign_test');
    await notifier.query("SELECT pg_notify('countersign_test', 'hello')");
    expect(await received).toBe('hello');
  } finally {
    await listener.end();
    await notifier.end();
  }
});

test('btree_gist exclusion constraints refuse overlapping ranges', async () => {
  const client = new Client({ connectionString: pg.url });
  await client.connect();
  try {
    await client.query('CREATE EXTENSION IF NOT EXISTS btree_gist');
    await client.query(`CREATE TABLE links (a uuid, b uuid, during daterange,
      EXCLUDE USING gist (a WITH =, b WITH =, during WITH &&))`);
    await client.query("INSERT INTO links VALUES ('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002', '[2024-01-01,2024-12-31]')");
    await expect(client.query("INSERT INTO links VALUES ('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002', '[2024-06-01,2025-06-01]')"))
      .rejects.toMatchObject({ code: '23P01' });
  } finally {
    await client.end();
  }
});
