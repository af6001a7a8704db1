/**
 * `npx ts-node --transpile-only bench/profile-summary.ts <file.cpuprofile> [title]`: the top self-time functions and
 * the self time per package of a V8 CPU profile (`node --cpu-prof`), as text for bench/profiles/.
 * Profile a scenario with: BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" BENCH_SECONDS=10 npm run bench -- "trivial query"
 */
import { readFileSync } from 'node:fs';

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

const [file, title] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const idle = [...self.entries()].filter(([id]) => ['(idle)', '(program)', '(garbage collector)'].includes(byId.get(id)!.callFrame.functionName));
const where = (url: string) => {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  if (url.includes('/dist/src/') || url.includes('/src/')) return 'countersign';
  if (url.startsWith('node:') || !url) return 'node (core/native)';
  return url;
};
const fns = new Map<string, number>();
const packages = new Map<string, number>();
for (const [id, us] of self) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  const key = `${functionName || '(anonymous)'}  ${url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${lineNumber + 1}`;
  fns.set(key, (fns.get(key) ?? 0) + us);
  const pkg = ['(idle)', '(program)', '(garbage collector)'].includes(functionName) ? functionName : where(url);
  packages.set(pkg, (packages.get(pkg) ?? 0) + us);
}
const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
const lines = [
  `# ${title ?? file}`,
  `${(total / 1e6).toFixed(1)} s sampled; idle/program/GC: ${idle.map(([id, us]) => `${byId.get(id)!.callFrame.functionName} ${pct(us).trim()}`).join(', ')}`,
  '',
  'Self time by package:',
  ...[...packages.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([k, us]) => `${pct(us)}  ${k}`),
  '',
  'Top 30 functions by self time:',
  ...[...fns.entries()].sort((a, b) => b[1] - a[1]).slice(0, 30).map(([k, us]) => `${pct(us)}  ${k}`),
];
console.log(lines.join('\n'));
