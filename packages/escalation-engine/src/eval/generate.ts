// Scenario generator: realistic decision streams whose agent proposals match the person only ~85–90%.
import { createWriteStream, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Prng } from '../prng.js';
import type { DecisionInput, JsonValue } from '../schemas.js';
import { SimPolicy, SimulatedProfessional } from './policy.js';

interface TypeSpec {
  type: string;
  weight: number;
  options: [string, string][];
  context: (r: Prng) => Record<string, JsonValue>;
}

const pickWeighted = <T>(r: Prng, items: [T, number][]): T => {
  const total = items.reduce((s, [, w]) => s + w, 0);
  let u = r.next() * total;
  for (const [item, w] of items) {
    u -= w;
    if (u <= 0) return item;
  }
  const last = items[items.length - 1];
  if (!last) throw new Error('empty choice');
  return last[0];
};
const logUniform = (r: Prng, lo: number, hi: number): number => Math.exp(Math.log(lo) + r.next() * (Math.log(hi) - Math.log(lo)));
const TEAMS = ['payments', 'platform', 'growth', 'data'];
const level = (r: Prng, low: number, medium: number, high: number): string => pickWeighted(r, [['low', low], ['medium', medium], ['high', high]]);

/** Six decision types with the context fields a real agent fleet would report. */
export const TYPES: TypeSpec[] = [
  {
    type: 'deploy.approve',
    weight: 0.2,
    options: [['approve', 'Deploy now'], ['hold', 'Hold the deploy']],
    context: (r) => ({
      env: pickWeighted(r, [['dev', 0.4], ['staging', 0.3], ['prod', 0.3]]),
      risk: level(r, 0.5, 0.35, 0.15),
      branch: pickWeighted(r, [['main', 0.5], ['release', 0.2], ['feature', 0.3]]),
      team: r.pick(TEAMS),
      blastRadius: level(r, 0.6, 0.3, 0.1),
    }),
  },
  {
    type: 'test.flaky_retry',
    weight: 0.2,
    options: [['retry', 'Retry the test'], ['quarantine', 'Quarantine the test'], ['open_issue', 'Open an issue']],
    context: (r) => ({
      suite: pickWeighted(r, [['unit', 0.5], ['integration', 0.3], ['e2e', 0.2]]),
      failures: Math.floor(logUniform(r, 1, 7)),
      team: r.pick(TEAMS),
      branch: pickWeighted(r, [['main', 0.6], ['release', 0.1], ['feature', 0.3]]),
      risk: 'low',
    }),
  },
  {
    type: 'invoice.pay',
    weight: 0.15,
    options: [['pay', 'Pay the invoice'], ['hold', 'Hold for review'], ['reject', 'Reject the invoice']],
    context: (r) => {
      const amount = Math.round(logUniform(r, 20, 60_000) * 100) / 100;
      return {
        amount,
        cost: amount,
        vendor: pickWeighted(r, [['known', 0.8], ['new', 0.2]]),
        currency: pickWeighted(r, [['EUR', 0.5], ['USD', 0.35], ['GBP', 0.15]]),
        risk: amount > 10_000 ? 'high' : amount > 1000 ? 'medium' : 'low',
      };
    },
  },
  {
    type: 'pr.merge',
    weight: 0.2,
    options: [['merge', 'Merge'], ['wait', 'Wait'], ['request_changes', 'Request changes']],
    context: (r) => ({
      branch: pickWeighted(r, [['main', 0.6], ['release', 0.2], ['feature', 0.2]]),
      ci: pickWeighted(r, [['green', 0.8], ['flaky', 0.15], ['red', 0.05]]),
      approvals: pickWeighted(r, [[0, 0.1], [1, 0.5], [2, 0.3], [3, 0.1]]),
      linesChanged: Math.round(logUniform(r, 5, 3000)),
      team: r.pick(TEAMS),
    }),
  },
  {
    type: 'ticket.route',
    weight: 0.15,
    options: [['platform', 'Platform team'], ['payments', 'Payments team'], ['growth', 'Growth team'], ['oncall', 'Page on-call']],
    context: (r) => ({
      component: pickWeighted(r, [['api', 0.3], ['billing', 0.2], ['ui', 0.25], ['infra', 0.15], ['data', 0.1]]),
      severity: pickWeighted(r, [['sev1', 0.05], ['sev2', 0.15], ['sev3', 0.4], ['sev4', 0.4]]),
      customerTier: pickWeighted(r, [['free', 0.5], ['pro', 0.35], ['enterprise', 0.15]]),
    }),
  },
  {
    type: 'dependency.upgrade',
    weight: 0.1,
    options: [['upgrade', 'Upgrade'], ['defer', 'Defer'], ['pin', 'Pin the current version']],
    context: (r) => ({
      semver: pickWeighted(r, [['patch', 0.6], ['minor', 0.3], ['major', 0.1]]),
      ecosystem: pickWeighted(r, [['npm', 0.6], ['pypi', 0.25], ['go', 0.15]]),
      security: r.next() < 0.1,
      team: r.pick(TEAMS),
    }),
  },
];

// Accuracy offsets per type around the mean, so some types are easier for the agent than others.
const OFFSETS = [0.05, -0.03, 0.02, -0.05, 0.03, -0.02];
const DEFAULT_UNINFORMATIVE = ['invoice.pay', 'ticket.route', 'dependency.upgrade'];

export interface GenerateOptions {
  n: number;
  seed: number;
  agentAccuracy: number;
  tenantId?: string;
  recipient?: string;
  /** Mean seconds between decisions (exponential gaps). */
  intervalSeconds?: number;
  start?: number;
  /** Share of irreversible and of critical decisions. */
  irreversibleShare?: number;
  criticalShare?: number;
}

/** Generates a decision stream; proposals are drawn against the person's intended choice at each index. */
export function* generateDecisions(policyInput: SimPolicy, opts: GenerateOptions): Generator<DecisionInput> {
  const policy = SimPolicy.parse(policyInput);
  const sim = new SimulatedProfessional(policy, opts.seed);
  const r = new Prng(opts.seed * 2654435761);
  const uninformative = new Set(policy.agent?.uninformativeConfidence.length ? policy.agent.uninformativeConfidence : DEFAULT_UNINFORMATIVE);
  let at = opts.start ?? Date.UTC(2026, 0, 5, 8, 0, 0);
  const interval = (opts.intervalSeconds ?? 30) * 1000;
  for (let i = 0; i < opts.n; i++) {
    at += Math.max(1000, Math.round(-Math.log(1 - r.next()) * interval));
    const spec = pickWeighted(r, TYPES.map((t) => [t, t.weight] as [TypeSpec, number]));
    const context: Record<string, JsonValue> = spec.context(r);
    context.reversible = r.next() >= (opts.irreversibleShare ?? 0.015);
    if (r.next() < (opts.criticalShare ?? 0.01)) context.critical = true;
    context.urgency = context.critical === true ? 'critical' : pickWeighted(r, [['low', 0.1], ['normal', 0.8], ['high', 0.1]]);
    const options = spec.options.map(([id, label]) => ({ id, label }));
    const base: DecisionInput = { id: `d-${opts.seed}-${i}`, tenantId: opts.tenantId ?? 'tenant-demo', type: spec.type, options, context, at, ...(opts.recipient === undefined ? {} : { recipient: opts.recipient }) };
    const truth = sim.intended(base, i);
    const idx = TYPES.indexOf(spec);
    const accuracy = Math.min(0.99, Math.max(0.5, policy.agent?.accuracy[spec.type] ?? opts.agentAccuracy + (OFFSETS[idx] ?? 0)));
    const right = r.next() < accuracy;
    const others = options.filter((o) => o.id !== truth);
    const proposal = right || others.length === 0 ? truth : r.pick(others).id;
    const informative = !uninformative.has(spec.type);
    const u = r.next();
    const confidence = informative ? (right ? 0.55 + 0.45 * Math.sqrt(u) : 0.35 + 0.5 * u) : 0.7 + 0.28 * u;
    const d: DecisionInput = { ...base, proposal, confidence: Math.round(confidence * 1000) / 1000 };
    if (r.next() < 0.3) {
      const v = r.next();
      const agreement = informative ? (right ? 0.6 + 0.4 * v : 0.2 + 0.6 * v) : 0.5 + 0.5 * v;
      d.sampleAgreement = Math.round(agreement * 100) / 100;
    }
    yield d;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      n: { type: 'string', default: '5000' },
      seed: { type: 'string', default: '1' },
      'agent-accuracy': { type: 'string', default: '0.87' },
      policy: { type: 'string' },
      out: { type: 'string' },
      'interval-seconds': { type: 'string', default: '30' },
    },
  });
  const policyPath = values.policy ?? new URL('../../scenarios/contextual.json', import.meta.url).pathname;
  const policy = SimPolicy.parse(JSON.parse(readFileSync(policyPath, 'utf8')));
  const out = values.out ? createWriteStream(values.out) : process.stdout;
  for (const d of generateDecisions(policy, { n: Number(values.n), seed: Number(values.seed), agentAccuracy: Number(values['agent-accuracy']), intervalSeconds: Number(values['interval-seconds']) })) {
    if (!out.write(`${JSON.stringify(d)}\n`)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  if (out !== process.stdout) await new Promise<void>((resolve) => out.end(() => resolve()));
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
