// Prints a markdown table comparing the JSON lines of scripts/bench.ts and the peer benchmarks, with Steward's
// throughput as a ratio of each peer's at the same workload and concurrency.
import { readFileSync } from 'node:fs';

const rows = process.argv.slice(2).flatMap((f) => readFileSync(f, 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))).filter((r) => r.per_s !== undefined);
const name = (r) => (r.system === 'steward' ? 'steward' : `${r.system}${r.mode && r.system === 'dbos' ? ` ${r.mode}` : ''}`);
const key = (r) => `${r.workload}|${r.concurrency ?? r.rate_per_s}`;
const steward = new Map(rows.filter((r) => r.system === 'steward').map((r) => [key(r), r]));
console.log('| workload | C | system | per s | p50 ms | p95 ms | p99 ms | machine CPU | steward ÷ this |');
console.log('|---|---|---|---|---|---|---|---|---|');
const order = ['W1_single_step', 'W2_three_step', 'W3_low_load', 'open_loop'];
rows.sort((a, b) => order.indexOf(a.workload) - order.indexOf(b.workload) || (a.concurrency ?? 0) - (b.concurrency ?? 0) || name(a).localeCompare(name(b)));
for (const r of rows) {
  const s = steward.get(key(r));
  const ratio = r.system === 'steward' || !s ? '' : r.workload === 'W3_low_load' ? `p50 ×${(s.p50_ms / r.p50_ms).toFixed(2)}` : `×${(s.per_s / r.per_s).toFixed(2)}`;
  console.log(`| ${r.workload} | ${r.concurrency ?? `${r.rate_per_s}/s open`} | ${name(r)} | ${r.per_s} | ${r.p50_ms} | ${r.p95_ms} | ${r.p99_ms} | ${r.machine_cpu_cores ?? ''} | ${ratio} |`);
}
