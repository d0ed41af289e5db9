// Evaluation runner: streams decisions through the engine, a simulated professional answers batches and audits.
import { Batcher, type EscalationBatch } from '../batcher.js';
import { EscalationEngine } from '../engine.js';
import type { DecisionInput, EngineConfigInput, PolicyMode, Verdict, VerdictBasis } from '../schemas.js';
import { clopperPearson } from '../stats.js';
import { type SimPolicy, SimulatedProfessional } from './policy.js';

export interface RunOptions {
  mode: PolicyMode;
  alpha: number;
  delta: number;
  budget: number;
  batchSize: number;
  batchMinutes: number;
  decisionMinutes: number;
  seed: number;
  auditRate: number;
  /** Audits are non-blocking: they ride along with the next escalation batch, or go out on their own after this. */
  auditTimeoutMinutes: number;
  auditBatchSize: number;
  batchTimeoutMinutes: number;
  progressEvery: number;
  warmup: number;
  engine?: EngineConfigInput;
}

export const DEFAULT_RUN_OPTIONS: RunOptions = {
  mode: 'risk', alpha: 0.02, delta: 0.05, budget: 0.05, batchSize: 5, batchMinutes: 2, decisionMinutes: 0.5, seed: 1,
  auditRate: 0.03, auditTimeoutMinutes: 60, auditBatchSize: 10, batchTimeoutMinutes: 5, progressEvery: 500, warmup: 500,
};

export interface SliceReport {
  decisions: number;
  autonomy: number;
  autonomous: number;
  byPreference: number;
  escalated: number;
  /** Escalations by what settled them: hard rule, no choice, autonomy not yet earned, score below the threshold… */
  escalatedBy: Partial<Record<VerdictBasis, number>>;
  /** Autonomous error against the person's (noisy) answer, with a two-sided 95% Clopper–Pearson interval. */
  autonomousError: { rate: number; errors: number; lower: number; upper: number };
  /** Autonomous error against the person's intended rule (noise removed). */
  autonomousErrorVsRule: number;
  usefulness: number;
  humanMinutes: number;
  baselineMinutes: number;
  baselineUnbatchedMinutes: number;
  timeSaved: number;
  timeSavedVsUnbatched: number;
}

export interface EvalReport {
  policy: string;
  mode: PolicyMode;
  alpha: number;
  delta: number;
  decisions: number;
  overall: SliceReport;
  afterWarmup: SliceReport & { from: number };
  batches: number;
  escalationBatches: number;
  escalationsPerBatch: number;
  itemsPerBatch: number;
  audits: number;
  learningCurve: { from: number; to: number; autonomy: number; errors: number; autonomous: number; error: number }[];
  drift?: {
    policyDriftAt: number;
    detectedAt?: number;
    detectionDelay?: number;
    events: { decision: number; type: string }[];
    errorBefore: number;
    errorFirst500After: number;
    errorAfter500: number;
    recoveredAt?: number;
    recoveredWithin500: boolean;
  };
  engineMetrics: ReturnType<EscalationEngine['metrics']>;
  preferences: { active: number; candidate: number; demoted: number; revoked: number };
}

interface Row {
  basis: VerdictBasis;
  autonomous: boolean;
  byPreference: boolean;
  escalated: boolean;
  correct: boolean;
  correctVsRule: boolean;
  useful: boolean;
  cost: number;
  baseline: number;
  unbatched: number;
}

interface Pending {
  d: DecisionInput;
  verdict: Verdict;
  index: number;
  kind: 'escalation' | 'audit';
}

export class EvalRunner {
  readonly engine: EscalationEngine;
  private readonly sim: SimulatedProfessional;
  private readonly escalations: Batcher;
  private readonly audits: Batcher;
  private readonly baseline: Batcher;
  private readonly pending = new Map<string, Pending>();
  private readonly rows: Row[] = [];
  private readonly driftAt: { decision: number; type: string }[] = [];
  private batches = 0;
  private escalationBatches = 0;
  private escalationItems = 0;
  private batchItems = 0;
  private auditCount = 0;
  private lastAt = 0;
  private seenDrifts = 0;

  constructor(
    private readonly policy: SimPolicy,
    private readonly opts: RunOptions,
    private readonly progress?: (line: string) => void,
  ) {
    this.engine = new EscalationEngine({ ...opts.engine, seed: opts.seed, auditRate: opts.auditRate, policy: { mode: opts.mode, alpha: opts.alpha, delta: opts.delta, budget: opts.budget } });
    this.sim = new SimulatedProfessional(policy, opts.seed);
    const timeout = opts.batchTimeoutMinutes * 60_000;
    this.escalations = new Batcher({ batchSize: opts.batchSize, batchTimeoutMs: timeout });
    this.audits = new Batcher({ batchSize: opts.auditBatchSize, batchTimeoutMs: opts.auditTimeoutMinutes * 60_000 });
    this.baseline = new Batcher({ batchSize: opts.batchSize, batchTimeoutMs: timeout });
  }

  private deliver(batches: EscalationBatch[], now: number, escalation: boolean): void {
    for (const batch of batches) {
      // Waiting audits for the same person join an escalation batch: they add reading time, not a batch to open.
      const items = escalation ? [...batch.items, ...this.audits.take(batch.tenantId, batch.recipient)] : batch.items;
      if (items.length === 0) continue;
      this.batches++;
      this.batchItems += items.length;
      if (escalation) this.escalationBatches++;
      const share = this.opts.batchMinutes / items.length;
      for (const item of items) {
        const p = this.pending.get(item.decisionId);
        if (!p) continue;
        this.pending.delete(item.decisionId);
        const answer = this.sim.answer(p.d, p.index);
        const row = this.rows[p.index];
        if (row) row.cost += share + this.opts.decisionMinutes;
        if (p.kind === 'escalation') this.escalationItems++;
        this.engine.learn(p.d, p.verdict, answer, p.kind);
      }
      const drifts = this.engine.driftEvents();
      for (const e of drifts.slice(this.seenDrifts)) this.driftAt.push({ decision: this.rows.length - 1, type: e.type });
      this.seenDrifts = drifts.length;
    }
    void now;
  }

  private deliverBaseline(batches: EscalationBatch[]): void {
    for (const batch of batches) {
      const share = this.opts.batchMinutes / batch.items.length;
      for (const item of batch.items) {
        const index = Number(item.payload);
        const row = this.rows[index];
        if (row) row.baseline += share + this.opts.decisionMinutes;
      }
    }
  }

  private tick(now: number): void {
    this.deliver(this.escalations.due(now), now, true);
    this.deliver(this.audits.due(now), now, false);
    this.deliverBaseline(this.baseline.due(now));
  }

  step(d: DecisionInput): Verdict {
    const index = this.rows.length;
    const now = d.at;
    this.lastAt = Math.max(this.lastAt, now);
    this.tick(now);
    const verdict = this.engine.decide(d);
    const answer = this.sim.answer(d, index);
    const intended = this.sim.intended(d, index);
    const escalated = verdict.outcome === 'escalate';
    const row: Row = {
      basis: verdict.basis,
      autonomous: !escalated,
      byPreference: verdict.outcome === 'preference',
      escalated,
      correct: verdict.choice === answer,
      correctVsRule: verdict.choice === intended,
      useful: escalated && answer !== d.proposal,
      cost: 0,
      baseline: 0,
      unbatched: this.opts.batchMinutes + this.opts.decisionMinutes,
    };
    this.rows.push(row);
    const urgency = d.context.urgency ?? 'normal';
    const critical = d.context.critical === true || urgency === 'critical';
    const item = { decisionId: d.id, tenantId: d.tenantId, urgency, critical, enqueuedAt: now, ...(d.recipient === undefined ? {} : { recipient: d.recipient }) };
    if (escalated) {
      this.pending.set(d.id, { d, verdict, index, kind: 'escalation' });
      this.deliver(this.escalations.add(item, now), now, true);
    } else if (verdict.audit) {
      this.auditCount++;
      this.pending.set(d.id, { d, verdict, index, kind: 'audit' });
      this.deliver(this.audits.add({ ...item, urgency: 'low', critical: false }, now), now, false);
    }
    this.deliverBaseline(this.baseline.add({ ...item, payload: index }, now));
    if (this.progress && (index + 1) % this.opts.progressEvery === 0) this.progress(this.progressLine());
    return verdict;
  }

  private progressLine(): string {
    const n = this.rows.length;
    const s = this.slice(Math.max(0, n - this.opts.progressEvery), n);
    const all = this.slice(0, n);
    return `[${String(n).padStart(6)}] last ${this.opts.progressEvery}: autonomy ${pct(s.autonomy)} error ${pct(s.autonomousError.rate)} (${s.autonomousError.errors}/${s.autonomous}) | total: autonomy ${pct(all.autonomy)} error ${pct(all.autonomousError.rate)} time saved ${pct(all.timeSavedVsUnbatched)} vs one by one (${pct(all.timeSaved)} vs batched) | drift events ${this.driftAt.length}`;
  }

  /** Sends whatever still waits (end of the stream) so every escalation is answered and costed. */
  finish(): EvalReport {
    const end = this.lastAt + Math.max(this.opts.batchTimeoutMinutes, this.opts.auditTimeoutMinutes) * 60_000;
    this.deliver(this.escalations.flush(end), end, true);
    this.deliver(this.audits.flush(end), end, false);
    this.deliverBaseline(this.baseline.flush(end));
    return this.report();
  }

  private slice(from: number, to: number): SliceReport {
    let autonomous = 0;
    let byPreference = 0;
    let escalated = 0;
    let errors = 0;
    let errorsVsRule = 0;
    let useful = 0;
    let cost = 0;
    let baseline = 0;
    let unbatched = 0;
    const escalatedBy: Partial<Record<VerdictBasis, number>> = {};
    for (let i = from; i < to; i++) {
      const r = this.rows[i];
      if (!r) continue;
      if (r.autonomous) {
        autonomous++;
        if (r.byPreference) byPreference++;
        if (!r.correct) errors++;
        if (!r.correctVsRule) errorsVsRule++;
      }
      if (r.escalated) {
        escalated++;
        escalatedBy[r.basis] = (escalatedBy[r.basis] ?? 0) + 1;
      }
      if (r.useful) useful++;
      cost += r.cost;
      baseline += r.baseline;
      unbatched += r.unbatched;
    }
    const n = Math.max(0, to - from);
    const ci = clopperPearson(errors, autonomous);
    return {
      decisions: n,
      autonomy: n === 0 ? 0 : autonomous / n,
      autonomous,
      byPreference,
      escalated,
      escalatedBy,
      autonomousError: { rate: autonomous === 0 ? 0 : errors / autonomous, errors, lower: ci.lower, upper: ci.upper },
      autonomousErrorVsRule: autonomous === 0 ? 0 : errorsVsRule / autonomous,
      usefulness: escalated === 0 ? 0 : useful / escalated,
      humanMinutes: round(cost),
      baselineMinutes: round(baseline),
      baselineUnbatchedMinutes: round(unbatched),
      timeSaved: baseline === 0 ? 0 : 1 - cost / baseline,
      timeSavedVsUnbatched: unbatched === 0 ? 0 : 1 - cost / unbatched,
    };
  }

  report(): EvalReport {
    const n = this.rows.length;
    const curve: EvalReport['learningCurve'] = [];
    for (let from = 0; from < n; from += 100) {
      const s = this.slice(from, Math.min(n, from + 100));
      curve.push({ from, to: Math.min(n, from + 100), autonomy: s.autonomy, errors: s.autonomousError.errors, autonomous: s.autonomous, error: s.autonomousError.rate });
    }
    const warm = Math.min(this.opts.warmup, n);
    const prefs = this.engine.preferences();
    const count = (status: string): number => prefs.filter((p) => p.status === status).length;
    const report: EvalReport = {
      policy: this.policy.name,
      mode: this.opts.mode,
      alpha: this.opts.alpha,
      delta: this.opts.delta,
      decisions: n,
      overall: this.slice(0, n),
      afterWarmup: { ...this.slice(warm, n), from: warm },
      batches: this.batches,
      escalationBatches: this.escalationBatches,
      escalationsPerBatch: this.escalationBatches === 0 ? 0 : this.escalationItems / this.escalationBatches,
      itemsPerBatch: this.batches === 0 ? 0 : this.batchItems / this.batches,
      audits: this.auditCount,
      learningCurve: curve,
      engineMetrics: this.engine.metrics(),
      preferences: { active: count('active'), candidate: count('candidate'), demoted: count('demoted'), revoked: count('revoked') },
    };
    const driftPoint = this.policy.drift?.after;
    if (driftPoint !== undefined && driftPoint < n) {
      const detected = this.driftAt.find((e) => e.decision >= driftPoint);
      // Recovery: the first 100-window start after the drift from which autonomous error to the end stays ≤ α.
      let recoveredAt: number | undefined;
      for (let w = driftPoint; w < n; w += 100) {
        if (this.slice(w, n).autonomousError.rate <= this.opts.alpha) {
          recoveredAt = w;
          break;
        }
      }
      report.drift = {
        policyDriftAt: driftPoint,
        ...(detected ? { detectedAt: detected.decision, detectionDelay: detected.decision - driftPoint } : {}),
        events: this.driftAt.slice(),
        errorBefore: this.slice(warm, driftPoint).autonomousError.rate,
        errorFirst500After: this.slice(driftPoint, Math.min(n, driftPoint + 500)).autonomousError.rate,
        errorAfter500: this.slice(Math.min(n, driftPoint + 500), n).autonomousError.rate,
        ...(recoveredAt === undefined ? {} : { recoveredAt }),
        recoveredWithin500: recoveredAt !== undefined && recoveredAt - driftPoint <= 500,
      };
    }
    return report;
  }
}

const round = (x: number): number => Math.round(x * 10) / 10;
export const pct = (x: number, digits = 1): string => `${(x * 100).toFixed(digits)}%`;

/** Runs a whole stream (array or iterable) and returns the report. */
export function runEvaluation(decisions: Iterable<DecisionInput>, policy: SimPolicy, options: Partial<RunOptions> = {}, progress?: (line: string) => void): EvalReport {
  const runner = new EvalRunner(policy, { ...DEFAULT_RUN_OPTIONS, ...options }, progress);
  for (const d of decisions) runner.step(d);
  return runner.finish();
}

const BASIS_LABEL: Record<VerdictBasis, string> = {
  rule: 'a hard rule',
  no_choice: 'no choice to act on',
  not_earned: 'autonomy not yet earned',
  threshold: 'score below the threshold',
  budget: 'over the budget',
  preference: 'a preference',
};

/** "autonomy not yet earned 285, score below the threshold 174, a hard rule 104", largest first. */
export function formatEscalatedBy(by: Partial<Record<VerdictBasis, number>>): string {
  const parts = (Object.entries(by) as [VerdictBasis, number][]).sort((a, b) => b[1] - a[1]).map(([basis, n]) => `${BASIS_LABEL[basis]} ${n}`);
  return parts.length === 0 ? 'nothing escalated' : parts.join(', ');
}

/** Human-readable summary of a report. */
export function formatReport(r: EvalReport): string {
  const lines: string[] = [];
  const s = (label: string, x: SliceReport): void => {
    lines.push(`${label}: ${x.decisions} decisions`);
    lines.push(`  autonomy            ${pct(x.autonomy)} (${x.autonomous} autonomous, ${x.byPreference} by active preference, ${x.escalated} escalated)`);
    lines.push(`  autonomous error    ${pct(x.autonomousError.rate, 2)} (${x.autonomousError.errors}/${x.autonomous}; 95% CI ${pct(x.autonomousError.lower, 2)}–${pct(x.autonomousError.upper, 2)}); vs intended rule ${pct(x.autonomousErrorVsRule, 2)}`);
    lines.push(`  escalated because   ${formatEscalatedBy(x.escalatedBy)}`);
    lines.push(`  usefulness          ${pct(x.usefulness)} of escalations changed the agent's proposal`);
    lines.push(`  human minutes       ${x.humanMinutes} vs ${x.baselineUnbatchedMinutes} answering every decision one by one (${x.baselineMinutes} in the same batches)`);
    lines.push(`  time saved          ${pct(x.timeSavedVsUnbatched)} vs answering every decision one by one; ${pct(x.timeSaved)} vs answering every decision in the same batches`);
  };
  lines.push(`policy ${r.policy} · mode ${r.mode} · α=${r.alpha} δ=${r.delta}`);
  s('overall', r.overall);
  s(`after the first ${r.afterWarmup.from} decisions`, r.afterWarmup);
  lines.push(`batches: ${r.batches} opened (${r.escalationBatches} with escalations), ${r.escalationsPerBatch.toFixed(2)} escalations per escalation batch, ${r.itemsPerBatch.toFixed(2)} items per batch incl. ${r.audits} audits`);
  lines.push(`engine: audit-estimated autonomous error ${pct(r.engineMetrics.estimatedAutonomousError.estimate, 2)} (95% CI ${pct(r.engineMetrics.estimatedAutonomousError.lower, 2)}–${pct(r.engineMetrics.estimatedAutonomousError.upper, 2)}), preferences ${r.preferences.active} active / ${r.preferences.candidate} candidate / ${r.preferences.demoted} demoted`);
  if (r.drift) {
    const d = r.drift;
    lines.push(`drift: policy changes at ${d.policyDriftAt}; ${d.detectedAt === undefined ? 'NOT detected' : `detected at decision ${d.detectedAt} (+${d.detectionDelay})`}; events ${d.events.map((e) => `${e.type}@${e.decision}`).join(', ') || 'none'}`);
    lines.push(`  autonomous error: before ${pct(d.errorBefore, 2)}, first 500 after ${pct(d.errorFirst500After, 2)}, later ${pct(d.errorAfter500, 2)}; ${d.recoveredAt === undefined ? 'not recovered' : `≤ α from decision ${d.recoveredAt} on`} (${d.recoveredWithin500 ? 'within' : 'NOT within'} 500)`);
  }
  lines.push('learning curve (per 100 decisions: autonomy / autonomous error):');
  const cells = r.learningCurve.map((c) => `${String(c.from).padStart(5)}: ${pct(c.autonomy, 0).padStart(4)} / ${pct(c.error, 1).padStart(5)}`);
  for (let i = 0; i < cells.length; i += 5) lines.push(`  ${cells.slice(i, i + 5).join('  ')}`);
  return lines.join('\n');
}
