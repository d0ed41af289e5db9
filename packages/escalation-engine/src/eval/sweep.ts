// Robustness sweep: every policy × several review seeds through the same engine, one table and one summary line.
// pnpm eval:escalation:sweep [--policies a.json,b.json] [--seeds 1,2,3] [--engine '{"calibration":{…}}'] [--json]
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { EngineConfig, type EngineConfigInput, type VerdictBasis } from '../schemas.js';
import { generateDecisions } from './generate.js';
import { SimPolicy } from './policy.js';
import { type EvalReport, formatEscalatedBy, runEvaluation } from './runner.js';

export interface SweepOptions {
  /** Review seeds: each one a separate run of the engine and the simulated person over the same stream. */
  seeds: number[];
  /** Decisions per stream, and the generator's seed and agent accuracy (the stream is the same for every review seed). */
  n: number;
  streamSeed: number;
  agentAccuracy: number;
  alpha: number;
  /** Engine settings to try instead of the defaults. */
  engine?: EngineConfigInput;
}

export interface SweepRun {
  policy: string;
  seed: number;
  /** Figures after the first 500 decisions (the targets), and time saved over the whole stream too. */
  autonomy: number;
  autonomousError: number;
  timeSaved: number;
  timeSavedOverall: number;
  escalatedBy: Partial<Record<VerdictBasis, number>>;
  driftRecoveredWithin500?: boolean;
}

export interface SweepSummary {
  runs: SweepRun[];
  policies: { policy: string; meanAutonomy: number; minAutonomy: number; maxError: number; meanTimeSaved: number; meanEscalatedBy: Partial<Record<VerdictBasis, number>> }[];
  meanAutonomy: number;
  maxError: number;
  /** Runs whose autonomous error (against the person's answers) came out above α. */
  runsAboveAlpha: number;
}

const mean = (xs: number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

function meanCounts(all: Partial<Record<VerdictBasis, number>>[]): Partial<Record<VerdictBasis, number>> {
  const out: Partial<Record<VerdictBasis, number>> = {};
  for (const by of all) for (const [k, n] of Object.entries(by) as [VerdictBasis, number][]) out[k] = (out[k] ?? 0) + n / all.length;
  for (const k of Object.keys(out) as VerdictBasis[]) out[k] = Math.round(out[k] ?? 0);
  return out;
}

function toRun(policy: string, seed: number, r: EvalReport): SweepRun {
  return {
    policy,
    seed,
    autonomy: r.afterWarmup.autonomy,
    autonomousError: r.afterWarmup.autonomousError.rate,
    timeSaved: r.afterWarmup.timeSavedVsUnbatched,
    timeSavedOverall: r.overall.timeSavedVsUnbatched,
    escalatedBy: r.afterWarmup.escalatedBy,
    ...(r.drift ? { driftRecoveredWithin500: r.drift.recoveredWithin500 } : {}),
  };
}

/** Runs every policy with every review seed and summarises; `onRun` sees each run as it finishes. */
export function sweep(policies: readonly SimPolicy[], opts: SweepOptions, onRun?: (run: SweepRun) => void): SweepSummary {
  const engine = opts.engine === undefined ? undefined : EngineConfig.parse(opts.engine);
  const runs: SweepRun[] = [];
  for (const policy of policies) {
    const decisions = [...generateDecisions(policy, { n: opts.n, seed: opts.streamSeed, agentAccuracy: opts.agentAccuracy })];
    for (const seed of opts.seeds) {
      const run = toRun(policy.name, seed, runEvaluation(decisions, policy, { seed, alpha: opts.alpha, ...(engine ? { engine } : {}) }));
      runs.push(run);
      onRun?.(run);
    }
  }
  const byPolicy = policies.map((p) => runs.filter((r) => r.policy === p.name));
  return {
    runs,
    policies: byPolicy.map((rs, i) => ({
      policy: policies[i]?.name ?? '',
      meanAutonomy: mean(rs.map((r) => r.autonomy)),
      minAutonomy: Math.min(...rs.map((r) => r.autonomy)),
      maxError: Math.max(...rs.map((r) => r.autonomousError)),
      meanTimeSaved: mean(rs.map((r) => r.timeSaved)),
      meanEscalatedBy: meanCounts(rs.map((r) => r.escalatedBy)),
    })),
    meanAutonomy: mean(runs.map((r) => r.autonomy)),
    maxError: Math.max(0, ...runs.map((r) => r.autonomousError)),
    runsAboveAlpha: runs.filter((r) => r.autonomousError > opts.alpha).length,
  };
}

const pct = (x: number, digits = 1): string => `${(x * 100).toFixed(digits)}%`;

export function formatSweep(s: SweepSummary, alpha: number): string {
  const row = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(18) : c.padStart(14))).join('');
  const lines = [`${row(['policy', 'mean autonomy', 'lowest', 'max error', 'time saved'])}   escalated because (mean per run)   — all after the first 500 decisions`];
  for (const p of s.policies) lines.push(`${row([p.policy, pct(p.meanAutonomy), pct(p.minAutonomy), pct(p.maxError, 2), pct(p.meanTimeSaved)])}   ${formatEscalatedBy(p.meanEscalatedBy)}`);
  lines.push(`all ${s.runs.length} runs: mean autonomy after 500 ${pct(s.meanAutonomy)}, max autonomous error ${pct(s.maxError, 2)}, ${s.runsAboveAlpha} run(s) above α = ${pct(alpha, 1)}`);
  return lines.join('\n');
}

/** The shipped scenarios and the ones written apart from them (`scenarios/fresh/`). */
export function defaultPolicyFiles(): string[] {
  const dir = new URL('../../scenarios/', import.meta.url).pathname;
  const list = (d: string) => readdirSync(d).filter((f) => f.endsWith('.json')).sort().map((f) => join(d, f));
  return [...list(dir), ...list(join(dir, 'fresh'))];
}

function engineSettings(text: string): EngineConfigInput {
  const parsed = EngineConfig.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`--engine: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      policies: { type: 'string' },
      seeds: { type: 'string', default: '1,2,3' },
      n: { type: 'string', default: '5000' },
      'stream-seed': { type: 'string', default: '1' },
      'agent-accuracy': { type: 'string', default: '0.87' },
      alpha: { type: 'string', default: '0.02' },
      engine: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const num = (v: string, what: string): number => {
    const x = Number(v);
    if (!Number.isFinite(x)) throw new Error(`--${what}: not a number: ${v}`);
    return x;
  };
  const files = values.policies ? values.policies.split(',') : defaultPolicyFiles();
  const policies = files.map((f) => {
    const parsed = SimPolicy.safeParse(JSON.parse(readFileSync(f, 'utf8')));
    if (!parsed.success) throw new Error(`${f}: ${parsed.error.message}`);
    return { ...parsed.data, name: basename(f, '.json') };
  });
  const alpha = num(values.alpha, 'alpha');
  const opts: SweepOptions = {
    seeds: values.seeds.split(',').map((s) => num(s, 'seeds')),
    n: num(values.n, 'n'),
    streamSeed: num(values['stream-seed'], 'stream-seed'),
    agentAccuracy: num(values['agent-accuracy'], 'agent-accuracy'),
    alpha,
    ...(values.engine ? { engine: engineSettings(values.engine) } : {}),
  };
  const summary = sweep(policies, opts, values.json ? undefined : (r) => console.error(`${r.policy} seed ${r.seed}: autonomy ${pct(r.autonomy)}, error ${pct(r.autonomousError, 2)}`));
  console.log(values.json ? JSON.stringify(summary) : formatSweep(summary, alpha));
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
