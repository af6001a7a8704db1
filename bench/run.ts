/**
 * `npm run bench`: starts the server (production build, `log` providers) on DATABASE_URL or the embedded Postgres,
 * seeds each scenario, drives it over HTTP with autocannon (50 connections, warm-up excluded), measures two
 * ceilings in the same run, and prints/writes a table with the ratios the targets are stated in.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { Client } from 'pg';
import { ensureDatabase } from '../src/db/database';
import { startEmbeddedPostgres } from '../src/db/embedded-postgres';
import { BENCH_TEST_CODE, BENCH_TEST_MOBILE, SCENARIOS, type BenchContext, type Scenario } from './scenarios';

const ROOT = join(__dirname, '..');
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);

export interface ScenarioResult {
  name: string;
  target: string;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  peakRssMb: number;
  errors: number;
  non2xx: number;
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  console.log(`building…`);
  const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('build failed');

  const { serverUrl, stop: stopPostgres } = await postgres();
  const dbName = `countersign_bench_${Date.now()}`;
  const databaseUrl = await ensureDatabase(serverUrl, dbName);
  const adminKey = `cs_bench_${randomBytes(24).toString('base64url')}`;
  const processes: ChildProcess[] = [];
  const closers: Array<() => Promise<unknown>> = [];
  const results: ScenarioResult[] = [];
  try {
    const app = await startProcess('app', process.execPath, [join(ROOT, 'dist', 'src', 'main.js')], {
      NODE_ENV: 'production', DATABASE_URL: databaseUrl, SECRET_KEY: randomBytes(32).toString('hex'), ADMIN_API_KEY: adminKey,
      LOG_LEVEL: 'warn', OTP_RULES_LIMIT: '5000', DATA_DIR: mkdtempSync(join(tmpdir(), 'countersign-bench-')),
      ...benchEnv(),
    }, /countersign is listening|GraphQL endpoint/);
    processes.push(app.child);
    const insertCeiling = await startProcess('ceiling-insert', process.execPath, [join(__dirname, 'ceiling-insert.js')], { DATABASE_URL: databaseUrl, POOL_SIZE: '10' }, /ready/);
    processes.push(insertCeiling.child);
    const apolloCeiling = await startProcess('ceiling-apollo', process.execPath, [join(__dirname, 'ceiling-apollo.js')], {}, /ready/);
    processes.push(apolloCeiling.child);

    const sql = new Client({ connectionString: databaseUrl });
    sql.on('error', () => undefined); // the database is dropped at the end, ending this connection
    await sql.connect();
    closers.push(() => sql.end().catch(() => undefined));
    const ctx: BenchContext = {
      adminKey,
      sql: async (text, params) => (await sql.query(text, params as unknown[])).rows,
      gql: async (query, variables) => {
        const res = await fetch(`${app.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` }, body: JSON.stringify({ query, variables }) });
        const body = (await res.json()) as { data?: any; errors?: Array<{ message: string }> };
        if (body.errors?.length) throw new Error(`seed failed: ${body.errors[0].message}`);
        return body.data;
      },
      state: {},
    };

    const targets: Record<string, { url: string; pid: number }> = {
      app: { url: app.url, pid: app.child.pid! },
      'ceiling-insert': { url: insertCeiling.url, pid: insertCeiling.child.pid! },
      'ceiling-apollo': { url: apolloCeiling.url, pid: apolloCeiling.child.pid! },
    };
    for (const scenario of SCENARIOS.filter((s) => only.length === 0 || only.includes(s.name))) {
      process.stdout.write(`${scenario.name}: seeding… `);
      await scenario.setup?.(ctx);
      await ctx.sql('VACUUM ANALYZE'); // what autovacuum does after bulk loads: measure the steady state, not stale statistics or a vacuum running mid-scenario
      await smokeCheck(targets[scenario.target].url, scenario, ctx);
      process.stdout.write('warming up… ');
      await drive(targets[scenario.target], scenario, ctx, WARMUP);
      process.stdout.write('measuring… ');
      const result = await drive(targets[scenario.target], scenario, ctx, DURATION);
      results.push(result);
      console.log(`${Math.round(result.requestsPerSecond)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms`);
    }
  } finally {
    for (const close of closers) await close();
    for (const child of processes) child.kill('SIGTERM');
    await Promise.all(processes.map((child) => new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)))));
    const cleanup = new Client({ connectionString: serverUrl });
    await cleanup.connect();
    await cleanup.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).catch(() => undefined);
    await cleanup.end();
    await stopPostgres();
  }
  report(results);
}

function benchEnv(): Record<string, string> {
  // Abuse limits would throttle a load test; the benchmark measures throughput, so it raises them (documented).
  return {
    OTP_SEND_LIMIT_PER_RECIPIENT_15MIN: '100000000', OTP_SEND_LIMIT_PER_RECIPIENT_DAY: '100000000', OTP_SEND_LIMIT_PER_KEY_MINUTE: '100000000',
    OTP_VERIFY_FAILURE_LIMIT_PER_RECIPIENT_DAY: '100000000',
    OTP_TEST_RECIPIENTS: `${BENCH_TEST_MOBILE}:${BENCH_TEST_CODE}`,
  };
}

async function postgres(): Promise<{ serverUrl: string; stop: () => Promise<void> }> {
  if (process.env.DATABASE_URL) return { serverUrl: process.env.DATABASE_URL, stop: async () => undefined };
  const port = 54000 + Math.floor(Math.random() * 900);
  const pg = await startEmbeddedPostgres({ dir: mkdtempSync(join(tmpdir(), 'countersign-bench-pg-')), port, persistent: false });
  return { serverUrl: pg.url, stop: pg.stop };
}

async function startProcess(name: string, command: string, args: string[], env: Record<string, string>, ready: RegExp): Promise<{ child: ChildProcess; url: string }> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(command, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', PORT: String(port), HOST: '127.0.0.1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => { output += chunk; if (ready.test(output)) resolve(); };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before it was ready:\n${output}`)));
    setTimeout(() => reject(new Error(`${name} did not start in 60 s:\n${output}`)), 60_000).unref();
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

async function smokeCheck(url: string, scenario: Scenario, ctx: BenchContext): Promise<void> {
  const request = scenario.request(ctx);
  const res = await fetch(`${url}${request.path}`, { method: request.method, headers: request.headers, body: request.body() });
  const text = await res.text();
  if (res.status >= 400 || /"errors"\s*:/.test(text) || /"userErrors":\[\{/.test(text)) {
    throw new Error(`${scenario.name}: the scenario's request does not succeed (${res.status}): ${text.slice(0, 500)}`);
  }
}

function rssMb(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

async function drive(target: { url: string; pid: number }, scenario: Scenario, ctx: BenchContext, seconds: number): Promise<ScenarioResult> {
  const request = scenario.request(ctx);
  let peak = rssMb(target.pid);
  const sampler = setInterval(() => { peak = Math.max(peak, rssMb(target.pid)); }, 100);
  const result = await autocannon({
    url: target.url,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [{
      method: request.method as 'POST',
      path: request.path,
      headers: request.headers,
      setupRequest: (req: any) => ({ ...req, body: request.body() }),
    }],
  });
  clearInterval(sampler);
  return {
    name: scenario.name,
    target: scenario.target,
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    peakRssMb: Math.round(Math.max(peak, rssMb(target.pid))),
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

interface Ratio { label: string; value: number; target: string; pass: boolean }

function ratios(results: ScenarioResult[]): Ratio[] {
  const by = (name: string) => results.find((r) => r.name === name);
  const out: Ratio[] = [];
  const add = (label: string, value: number | null, target: string, pass: (v: number) => boolean) => {
    if (value !== null && Number.isFinite(value)) out.push({ label, value, target, pass: pass(value) });
  };
  const ceiling = by('ceiling: bare http + INSERT');
  const ratio = (a?: ScenarioResult, b?: ScenarioResult) => (a && b ? a.requestsPerSecond / b.requestsPerSecond : null);
  add('sendOtp / ceiling', ratio(by('sendOtp'), ceiling), '≥ 0.5', (v) => v >= 0.5);
  add('sendOtp p99 (ms)', by('sendOtp')?.p99 ?? null, '< 50', (v) => v < 50);
  add('verifyOtp / ceiling', ratio(by('verifyOtp'), ceiling), '≥ 0.5', (v) => v >= 0.5);
  add('trivial query / bare express+Apollo', ratio(by('trivial query'), by('ceiling: bare express + Apollo')), '≥ 1.0', (v) => v >= 1.0);
  add('guarded update, 1,000 rules / 0 rules', ratio(by('updateRecord, 1,000 rules'), by('updateRecord, 0 rules')), '≥ 0.8', (v) => v >= 0.8);
  const small = by('record.connections among 10^3');
  const large = by('record.connections among 10^6');
  add('record.connections p99 10^6 / 10^3', small && large ? large.p99 / Math.max(small.p99, 1) : null, '≤ 1.25', (v) => v <= 1.25);
  add('peak RSS of the server (MB)', Math.max(...results.filter((r) => r.target === 'app').map((r) => r.peakRssMb)), '< 300', (v) => v < 300);
  return out;
}

function report(results: ScenarioResult[]): void {
  const lines = [
    '| Scenario | req/s | p50 ms | p99 ms | peak RSS MB | errors |',
    '|---|---:|---:|---:|---:|---:|',
    ...results.map((r) => `| ${r.name} | ${Math.round(r.requestsPerSecond)} | ${r.p50} | ${r.p99} | ${r.peakRssMb} | ${r.errors + r.non2xx} |`),
    '',
    '| Ratio | value | target | met |',
    '|---|---:|---|---|',
    ...ratios(results).map((r) => `| ${r.label} | ${r.value.toFixed(2)} | ${r.target} | ${r.pass ? 'yes' : 'NO'} |`),
  ];
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${CONNECTIONS} connections, ${DURATION} s per scenario after ${WARMUP} s warm-up`;
  console.log(`\n${machine}\n\n${lines.join('\n')}\n`);
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  const file = join(__dirname, 'results', `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), machine, results, ratios: ratios(results), table: lines.join('\n') }, null, 2)}\n`);
  console.log(`written to ${file}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
