import { budgetTable, cpuBudgets, type CpuFigures } from './budget';

// the fifth session's final full run (bench/results/2026-12-01T20-07-09-406Z.json), figures as measured
const RUN: CpuFigures[] = [
  { name: 'ceiling: bare express + Apollo', requestsPerSecond: 3077.8, cpuMsPerRequest: { server: 0.341, postgres: 0.001, loadGenerator: 0.107 } },
  { name: 'trivial query', requestsPerSecond: 2398.2, cpuMsPerRequest: { server: 0.458, postgres: 0.001, loadGenerator: 0.118 } },
  { name: 'REST send-otp', requestsPerSecond: 538.1, cpuMsPerRequest: { server: 1.344, postgres: 1.587, loadGenerator: 0.151 } },
  { name: 'updateRecord, 0 rules', requestsPerSecond: 1166.3, cpuMsPerRequest: { server: 0.888, postgres: 0.311, loadGenerator: 0.132 } },
  { name: 'page of 100 records with connections', requestsPerSecond: 27.4, cpuMsPerRequest: { server: 43.029, postgres: 13.358, loadGenerator: 0.664 } },
];

describe('CPU budget of each throughput target', () => {
  const rows = cpuBudgets(RUN, 2);
  const row = (label: string) => rows.find((r) => r.label.startsWith(label))!;

  test('the budget is the cores\' milliseconds at the target\'s rate, less what Postgres and the load generator took', () => {
    const rest = row('REST');
    expect(rest.rate).toBeCloseTo(0.45 * 2398.2, 6);
    expect(rest.budgetMs).toBeCloseTo(2000 / (0.45 * 2398.2), 6);
    expect(rest.othersMs).toBeCloseTo(1.587 + 0.151, 6);
    expect(rest.leftMs).toBeCloseTo(rest.budgetMs - rest.othersMs, 6);
  });

  test('a target whose Postgres share leaves the server less than the trivial query costs it cannot fit; one that leaves more can', () => {
    expect(row('REST').fits).toBe(false); // 1.85 ms at 1,079 req/s, 1.74 taken: 0.12 left, floor 0.46
    expect(row('page of 100 records with connections').fits).toBe(false); // Postgres alone takes more than the budget
    expect(row('updateRecord, 0 rules').fits).toBe(true);
    expect(row('trivial query').floorMs).toBe(0.341); // the trivial row's floor is bare express + Apollo
  });

  test('a scenario that was not run (or has no CPU figures) gets no row', () => {
    expect(rows.map((r) => r.label)).not.toContain('GraphQL sendOtp vs trivial');
    expect(cpuBudgets([{ name: 'trivial query', requestsPerSecond: 1 }], 2)).toEqual([]);
  });

  test('the table names what is left and whether the target is reachable', () => {
    const table = budgetTable(rows, 2).join('\n');
    expect(table).toContain('| REST POST /api/send-otp vs trivial | 1079 req/s | 1.85 | 1.74 | 0.12 | 0.93 | 1.34 | 0.46 | no: less than the floor is left |');
    // enough CPU left on the 2 cores, but 0.89 ms a save is more than one core gives each save at 1,199 a second
    expect(table).toContain('| updateRecord, 0 rules vs trivial | 1199 req/s | 1.67 | 0.44 | 1.22 | 0.83 | 0.89 | 0.46 | only with the server ≤ 0.83 ms |');
    expect(table).toContain('| trivial query vs bare express + Apollo | 2770 req/s | 0.72 | 0.12 | 0.60 | 0.36 | 0.46 | 0.34 | only with the server ≤ 0.36 ms |');
  });
});
