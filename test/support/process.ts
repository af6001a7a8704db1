import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { nodeArgs } from './compiled';

export interface ServerProcess {
  child: ChildProcessWithoutNullStreams;
  output(): string;
  /** Resolves when the output matches, rejects when the process exits first or `timeoutMs` passes. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const ROOT = join(__dirname, '..', '..');

/**
 * Runs `src/main.ts` as its own process (as `npm start` does, without the build step); `entry` names another entry
 * point with its arguments instead (e.g. `['src/worker.ts']`, `['src/cli.ts', 'apikey', 'list', …]`).
 */
export function spawnServer(env: Record<string, string>, entry: string[] = ['src/main.ts']): ServerProcess {
  const [script, ...args] = entry;
  const child = spawn(process.execPath, [...nodeArgs(script), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', NODE_ENV: 'development', LOG_LEVEL: 'info', ...env },
  });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => { out += chunk.toString(); listeners.forEach((l) => l()); };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => { listeners.forEach((l) => l()); resolve({ code, signal }); });
  });
  return {
    child,
    output: () => out,
    exited,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => { listeners.delete(check); reject(new Error(`timed out waiting for ${pattern}; output:\n${out}`)); }, timeoutMs);
        const check = () => {
          const match = out.match(pattern);
          if (match) { clearTimeout(timer); listeners.delete(check); resolve(match); return; }
          if (child.exitCode !== null || child.signalCode !== null) { clearTimeout(timer); listeners.delete(check); reject(new Error(`process exited before ${pattern}; output:\n${out}`)); }
        };
        listeners.add(check);
        check();
      });
    },
  };
}
