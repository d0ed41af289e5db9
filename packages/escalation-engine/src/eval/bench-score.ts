// Benchmark: p50/p99 latency of decide() over 100k decisions on a trained engine (not a test).
// Run: node --conditions=development --import tsx packages/escalation-engine/src/eval/bench-score.ts [--n 100000]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { EscalationEngine } from '../engine.js';
import { generateDecisions } from './generate.js';
import { SimPolicy, SimulatedProfessional } from './policy.js';

const { values } = parseArgs({ options: { n: { type: 'string', default: '100000' }, policy: { type: 'string' } } });
const n = Number(values.n);
const policy = SimPolicy.parse(JSON.parse(readFileSync(values.policy ?? new URL('../../scenarios/contextual.json', import.meta.url).pathname, 'utf8')));
const sim = new SimulatedProfessional(policy, 1);
const engine = new EscalationEngine({ seed: 1 });

// Train on 3,000 answered decisions so preferences, calibration and the model are populated.
const training = [...generateDecisions(policy, { n: 3000, seed: 1, agentAccuracy: 0.87 })];
training.forEach((d, i) => {
  const v = engine.decide(d);
  if (v.outcome === 'escalate' || v.audit) engine.learn(d, v, sim.answer(d, i), v.outcome === 'escalate' ? 'escalation' : 'audit');
});

const stream = [...generateDecisions(policy, { n, seed: 2, agentAccuracy: 0.87 })];
const times = new Float64Array(n);
let autonomous = 0;
for (let i = 0; i < n; i++) {
  const d = stream[i];
  if (!d) continue;
  const t0 = process.hrtime.bigint();
  const v = engine.decide(d);
  times[i] = Number(process.hrtime.bigint() - t0) / 1000;
  if (v.outcome !== 'escalate') autonomous++;
}
const sorted = Array.from(times).sort((a, b) => a - b);
const q = (p: number): number => sorted[Math.min(n - 1, Math.floor(p * n))] ?? 0;
const mean = sorted.reduce((s, x) => s + x, 0) / n;
console.log(`decide() over ${n} decisions (no learning during the run): p50 ${q(0.5).toFixed(1)} µs, p99 ${q(0.99).toFixed(1)} µs, p99.9 ${q(0.999).toFixed(1)} µs, mean ${mean.toFixed(1)} µs, max ${q(1).toFixed(0)} µs; autonomy ${((autonomous / n) * 100).toFixed(1)}%`);
