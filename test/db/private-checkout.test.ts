import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { Client } from 'pg';
import { EmbeddedPostgresError, startEmbeddedPostgres } from '../../src/db/embedded-postgres';
import { freePort } from '../support/global-setup';

// SPEC §10 "Starts anywhere": as root, Postgres runs as the OS user `postgres`, who cannot enter a folder made by
// `mktemp -d` (0700) or /root. The embedded Postgres must still start from such a checkout, and never loosen the
// mode of a folder above its own data to get there.
const ROOT = resolve(__dirname, '..', '..');
const PACKAGE = `@embedded-postgres/${platform()}-${arch()}`;
const isRoot = userInfo().uid === 0;

/** Every folder on the way to each path (and the path itself), with its mode bits. */
function modesAbove(paths: string[]): Record<string, number> {
  const modes: Record<string, number> = {};
  for (const path of paths) {
    const parts = resolve(path).split(sep).filter(Boolean);
    for (let i = 0; i <= parts.length; i += 1) {
      const folder = sep + parts.slice(0, i).join(sep);
      if (existsSync(folder)) modes[folder] = statSync(folder).mode & 0o7777;
    }
  }
  return modes;
}

async function query(url: string, sql: string): Promise<any[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('a checkout in a folder only its owner can enter (mktemp -d, /root)', () => {
  test('the embedded Postgres starts from the checkout\'s own binaries, keeps its data across restarts, and changes the mode of no folder above its data', async () => {
    const privateDir = mkdtempSync(join(tmpdir(), 'countersign-private-')); // 0700, as `mktemp -d` makes it
    expect(statSync(privateDir).mode & 0o777).toBe(0o700);
    // The checkout's node_modules, as `npm ci` leaves it there (hard links: same files, no 60 MB copy).
    const packageDir = join(privateDir, 'checkout', 'node_modules', PACKAGE);
    mkdirSync(dirname(packageDir), { recursive: true });
    expect(spawnSync('cp', ['-a', '--link', join(ROOT, 'node_modules', PACKAGE), packageDir]).status).toBe(0);
    const nativeDir = join(packageDir, 'native');
    const dir = join(privateDir, 'checkout', '.data', 'postgres');
    const before = modesAbove([dir, nativeDir, ROOT, '/var/lib', '/var/cache', '/root']);
    const modesNow = () => Object.fromEntries(Object.keys(before).map((folder) => [folder, statSync(folder).mode & 0o7777]));

    const port = await freePort();
    const first = await startEmbeddedPostgres({ dir, port, nativeDir });
    let pgdata = first.pgdata;
    try {
      await query(first.url, 'CREATE TABLE kept (note text); INSERT INTO kept VALUES (\'from the first start\')');
      if (isRoot) {
        // Neither the binaries nor the cluster can be used inside the private folder by the postgres user.
        expect(first.binaries.startsWith(privateDir)).toBe(false);
        expect(first.pgdata.startsWith(privateDir)).toBe(false);
        expect(first.notice).toContain(`cannot enter ${privateDir}`);
        expect(realpathSync(join(dir, 'pgdata'))).toBe(first.pgdata); // where the data went is visible from DATA_DIR
        const cache = statSync(first.binaries);
        expect({ uid: cache.uid, mode: cache.mode & 0o777 }).toEqual({ uid: 0, mode: 0o755 });
      } else {
        expect(first.binaries).toBe(nativeDir); // they run as the current user: no copy needed
        expect(first.pgdata).toBe(join(dir, 'pgdata'));
      }
    } finally {
      await first.stop();
    }

    // A second start reuses the same verified binaries and the same cluster; the last one throws it away.
    const second = await startEmbeddedPostgres({ dir, port, nativeDir, persistent: false });
    pgdata = second.pgdata;
    try {
      expect(second.binaries).toBe(first.binaries);
      expect(second.pgdata).toBe(first.pgdata);
      expect(await query(second.url, 'SELECT note FROM kept')).toEqual([{ note: 'from the first start' }]);
      expect(modesNow()).toEqual(before); // the private folder, the checkout, /root, /tmp, /var/lib, … exactly as they were
      expect(statSync(privateDir).mode & 0o777).toBe(0o700);
    } finally {
      await second.stop();
      rmSync(privateDir, { recursive: true, force: true });
    }
    expect(existsSync(pgdata)).toBe(false); // persistent: false removed the cluster, wherever it lived
  }, 120_000);

  test('binaries that cannot be run are a rejected start naming the file, never an unhandled error event', async () => {
    const base = mkdtempSync(join(tmpdir(), 'countersign-broken-'));
    chmodSync(base, 0o755); // the test's own folder: reachable, so only the file's own mode is at fault
    const nativeDir = join(base, 'native');
    for (const folder of ['bin', 'lib', 'share']) mkdirSync(join(nativeDir, folder), { recursive: true });
    for (const file of ['initdb', 'postgres']) writeFileSync(join(nativeDir, 'bin', file), 'not a program', { mode: 0o644 });
    try {
      const started = startEmbeddedPostgres({ dir: join(base, 'data'), port: await freePort(), nativeDir });
      await expect(started).rejects.toBeInstanceOf(EmbeddedPostgresError);
      await expect(started).rejects.toThrow(`could not run ${join(nativeDir, 'bin', 'initdb')}: spawn ${join(nativeDir, 'bin', 'initdb')} EACCES`);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  test('a cluster already inside a folder the postgres user cannot enter stops the start with one line saying what to do', async () => {
    const privateDir = mkdtempSync(join(tmpdir(), 'countersign-private-data-'));
    const dir = join(privateDir, 'postgres');
    mkdirSync(join(dir, 'pgdata'), { recursive: true });
    writeFileSync(join(dir, 'pgdata', 'PG_VERSION'), '18\n'); // left by an older start
    try {
      const started = startEmbeddedPostgres({ dir, port: await freePort() });
      await expect(started).rejects.toBeInstanceOf(EmbeddedPostgresError);
      if (isRoot) {
        const message = await started.catch((error: Error) => error.message);
        expect(message).toBe(`The embedded Postgres data in ${join(dir, 'pgdata')} is out of reach of the OS user postgres, which Postgres runs as under root and which cannot enter ${privateDir}: move ${dir} to a folder that user can enter and set DATA_DIR accordingly (or allow it yourself: chmod o+x ${privateDir}), or set DATABASE_URL.`);
        expect(message).not.toContain('\n');
      }
      expect(statSync(privateDir).mode & 0o777).toBe(0o700);
    } finally {
      rmSync(privateDir, { recursive: true, force: true });
    }
  });
});

test('no code changes the mode of a folder it did not create (the old fix chmod-ed /root)', () => {
  const files = spawnSync('git', ['ls-files', 'src', 'bench', 'test/support'], { cwd: ROOT, encoding: 'utf8' }).stdout.split('\n').filter((f) => /\.[jt]s$/.test(f));
  const calls = files.flatMap((file) => readFileSync(join(ROOT, file), 'utf8').split('\n')
    .filter((line) => /\bchmod(Sync)?\(|'chmod'/.test(line))
    .map((line) => `${file}: ${line.trim().replace(/\s*\/\/.*$/, '')}`));
  // Each of these targets a folder or file src/db/embedded-postgres.ts has just made (a cache base, its staging copy).
  expect(calls).toEqual([
    'src/db/embedded-postgres.ts: chmodSync(base, 0o755);',
    'src/db/embedded-postgres.ts: chmodSync(staging, 0o755);',
    'src/db/embedded-postgres.ts: chmodSync(to, 0o755);',
    'src/db/embedded-postgres.ts: chmodSync(to, entry.executable ? 0o755 : 0o644);',
  ]);
});
