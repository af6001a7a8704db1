/**
 * What each throughput target of issue 15 leaves for the server's own work, from one run's CPU figures: at the target's
 * rate the machine's cores give each request `cores × 1000 / rate` ms of CPU in all, shared by the server, its
 * Postgres backends and the load generator (all on this machine). What Postgres and the load generator take per
 * request today is measured; what is left is the most the server may spend per request (an upper bound: it assumes
 * every core busy all the time). The server's JavaScript also runs on one thread, which gives it at most
 * `1000 / rate` ms per request of that thread (its garbage collector works on others, so this one is a guide, not a
 * bound): a target is "met on CPU" only within both. When that is below what the server spends on `{ __typename }` (no request
 * costs it less), the target cannot be met at today's Postgres cost on this machine, whatever the server does.
 */
export interface CpuFigures {
  name: string;
  requestsPerSecond: number;
  cpuMsPerRequest?: { server: number; postgres: number; loadGenerator: number };
}

export interface BudgetRow {
  label: string;
  /** The rate the target asks for, req/s. */
  rate: number;
  /** CPU ms per request the cores give at that rate. */
  budgetMs: number;
  /** Postgres + load generator, ms per request, as measured. */
  othersMs: number;
  /** The most the server may spend per request at that rate. */
  leftMs: number;
  /** One core's milliseconds per request at that rate (the event loop's share). */
  oneCoreMs: number;
  /** What the server spends now. */
  serverMs: number;
  /** The least any request of this server costs it (the trivial query; for the trivial row, bare express + Apollo). */
  floorMs: number;
  /** Whether a server at its floor would fit: false means Postgres's (or the load generator's) share alone rules the target out. */
  fits: boolean;
}

const RATIO_TARGETS: Array<[label: string, scenario: string, base: string, min: number]> = [
  ['trivial query vs bare express + Apollo', 'trivial query', 'ceiling: bare express + Apollo', 0.9],
  ['GraphQL sendOtp vs trivial', 'sendOtp', 'trivial query', 0.35],
  ['REST POST /api/send-otp vs trivial', 'REST send-otp', 'trivial query', 0.45],
  ['verifyOtp, right code vs trivial', 'verifyOtp', 'trivial query', 0.5],
  ['verifyOtp, wrong code vs trivial', 'verifyOtp, wrong code', 'trivial query', 0.5],
  ['updateRecord, 0 rules vs trivial', 'updateRecord, 0 rules', 'trivial query', 0.5],
  ['updateRecord, 1,000 rules vs trivial', 'updateRecord, 1,000 rules', 'trivial query', 0.5],
  ['page of 100 records vs trivial', 'page of 100 records', 'trivial query', 0.15],
  ['page of 100 records with connections vs trivial', 'page of 100 records with connections', 'trivial query', 0.08],
];

export function cpuBudgets(results: CpuFigures[], cores: number): BudgetRow[] {
  const by = (name: string) => results.find((r) => r.name === name);
  const rows: BudgetRow[] = [];
  for (const [label, scenario, baseName, min] of RATIO_TARGETS) {
    const measured = by(scenario);
    const base = by(baseName);
    const floorSource = scenario === 'trivial query' ? base : by('trivial query');
    if (!measured?.cpuMsPerRequest || !base || !floorSource?.cpuMsPerRequest) continue;
    const rate = min * base.requestsPerSecond;
    const budgetMs = (cores * 1000) / rate;
    const othersMs = measured.cpuMsPerRequest.postgres + measured.cpuMsPerRequest.loadGenerator;
    const leftMs = budgetMs - othersMs;
    const floorMs = floorSource.cpuMsPerRequest.server;
    rows.push({ label, rate, budgetMs, othersMs, leftMs, oneCoreMs: 1000 / rate, serverMs: measured.cpuMsPerRequest.server, floorMs, fits: leftMs >= floorMs });
  }
  return rows;
}

export function budgetTable(rows: BudgetRow[], cores: number): string[] {
  const ms = (v: number) => v.toFixed(2);
  return [
    `| Target (CPU per request on ${cores} cores) | rate needed | CPU per request at that rate | Postgres + load generator now | left for the server | one core at that rate | server now | server floor | reachable at today's Postgres cost |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|---|',
    ...rows.map((r) => {
      const most = Math.min(r.leftMs, r.oneCoreMs);
      const verdict = !r.fits ? 'no: less than the floor is left' : r.serverMs <= most ? 'yes (met on CPU)' : `only with the server ≤ ${ms(most)} ms`;
      return `| ${r.label} | ${Math.round(r.rate)} req/s | ${ms(r.budgetMs)} | ${ms(r.othersMs)} | ${ms(r.leftMs)} | ${ms(r.oneCoreMs)} | ${ms(r.serverMs)} | ${ms(r.floorMs)} | ${verdict} |`;
    }),
  ];
}
