// The escalation engine: hard rules → learned preferences → scoring model → threshold policy → audits → drift.
import { z } from 'zod';
import { type CusumState, RiskAdjustedCusum } from './drift.js';
import { type ChoiceSupport, contextNumbers, contextTokens, FEATURE_COUNT, featurize, type FeatureState, priorWeights, typeSlot } from './features.js';
import { type LogisticState, OnlineLogistic } from './model.js';
import { type PreferenceRecord, purityOf, type Suggestion, TypePreferences } from './preferences.js';
import { hashUniform } from './prng.js';
import { evaluateRules } from './rules.js';
import {
  type DecisionInput,
  DriftEvent,
  EngineConfig,
  type EngineConfigInput,
  type EngineMetrics,
  type Preference,
  PreferenceStatus,
  RuleSet,
  type TenantPolicy,
  type Verdict,
} from './schemas.js';
import { clopperPearson } from './stats.js';
import { BudgetThreshold, type BudgetState, type CalibrationRecord, learnThenTest, pooledValidFor } from './threshold.js';

export const SNAPSHOT_VERSION = 2;

export type LabelSource = 'escalation' | 'audit';

const Cusum = z.object({ statistic: z.number(), runStart: z.number() });
const TypeSnapshot = z.object({
  type: z.string(),
  preferences: z.object({
    examples: z.array(z.object({ seq: z.number(), at: z.number(), tokens: z.array(z.string()), nums: z.record(z.string(), z.number()), choice: z.string() })),
    records: z.array(
      z.object({
        id: z.string(), tenantId: z.string(), type: z.string(), condition: z.string(), choice: z.string(),
        support: z.number(), agreed: z.number(), n: z.number(), agreeing: z.number(), status: PreferenceStatus,
        statusReason: z.string().optional(), createdAt: z.number(), updatedAt: z.number(),
      }),
    ),
    cooldown: z.array(z.tuple([z.string(), z.number()])),
  }),
  calibration: z.array(z.object({ seq: z.number(), score: z.number(), correct: z.boolean(), stratum: z.enum(['pref', 'agent']) })),
  history: z.number(),
  count: z.number(),
  signatures: z.array(z.tuple([z.string(), z.number()])),
  cusum: Cusum,
  errorSeqs: z.array(z.number()),
});
type TypeSnapshot = z.infer<typeof TypeSnapshot>;
const TenantSnapshot = z.object({
  tenantId: z.string(),
  budget: z.object({ level: z.number(), sorted: z.array(z.number()), fifo: z.array(z.number()) }),
  cusum: Cusum,
  types: z.array(TypeSnapshot),
});
type TenantSnapshot = z.infer<typeof TenantSnapshot>;

interface Counters {
  decisions: number;
  autonomous: number;
  preference: number;
  escalated: number;
  audited: number;
  escalationAnswers: number;
  usefulAnswers: number;
  auditAnswers: number;
  auditWeight: number;
  auditErrorWeight: number;
  auditErrors: number;
}

/** Plain-JSON state of the engine; restore(config, snapshot) continues exactly where it stopped. */
export const EngineSnapshot = z.object({
  version: z.literal(SNAPSHOT_VERSION),
  labelSeq: z.number().int(),
  preferenceSeq: z.number().int(),
  counters: z.record(z.string(), z.number()),
  model: z.object({ weights: z.array(z.number()), updates: z.number() }),
  rules: z.record(z.string(), RuleSet),
  driftEvents: z.array(DriftEvent),
  sampledEscalations: z.array(z.string()),
  tenants: z.array(TenantSnapshot),
});
export type EngineSnapshot = z.infer<typeof EngineSnapshot>;

const MAX_SIGNATURES = 5000;
const MAX_PENDING_SAMPLES = 20000;

/**
 * Where the engine's choice comes from: a learned preference ('pref') or the agent's proposal ('agent'). Each
 * stratum earns its own Learn-then-Test certificate at δ/2 (Bonferroni), so a reliable learned rule is not held
 * back by the agent's errors and vice versa; the union of both autonomous sets then has error ≤ α w.p. ≥ 1 − δ.
 */
export type Stratum = 'pref' | 'agent';
const STRATA: readonly Stratum[] = ['pref', 'agent'];
type StratifiedRecord = CalibrationRecord & { stratum: Stratum };

class TypeState {
  prefs: TypePreferences;
  calibration: StratifiedRecord[];
  history: number;
  count: number;
  signatures: Map<string, number>;
  cusum: CusumState;
  /** Sequence numbers of recent labelled errors (to find the types behind a tenant-wide drift alarm). */
  errorSeqs: number[];
  /** Cached Learn-then-Test thresholds per stratum; recomputed only after new labels. */
  own: Partial<Record<Stratum, number>> = {};
  dirty = true;

  constructor(tenantId: string, readonly type: string, engine: EscalationEngine, snap?: TypeSnapshot) {
    this.prefs = new TypePreferences(tenantId, type, engine.config.preferences, () => engine.nextPreferenceId(), snap?.preferences);
    this.calibration = snap?.calibration.map((r) => ({ ...r })) ?? [];
    this.history = snap?.history ?? 0.5;
    this.count = snap?.count ?? 0;
    this.signatures = new Map(snap?.signatures ?? []);
    this.cusum = snap ? { ...snap.cusum } : RiskAdjustedCusum.initial();
    this.errorSeqs = snap ? [...snap.errorSeqs] : [];
  }

  errorsSince(seq: number): number {
    return this.errorSeqs.filter((s) => s >= seq).length;
  }

  snapshot(): TypeSnapshot {
    return {
      type: this.type,
      preferences: this.prefs.state(),
      calibration: this.calibration.map((r) => ({ ...r })),
      history: this.history,
      count: this.count,
      signatures: [...this.signatures.entries()],
      cusum: { ...this.cusum },
      errorSeqs: [...this.errorSeqs],
    };
  }
}

class TenantState {
  types = new Map<string, TypeState>();
  budget: BudgetState;
  cusum: CusumState;
  pooled: Partial<Record<Stratum, number>> = {};
  pooledDirty = true;

  constructor(readonly tenantId: string, budget: number, snap?: TenantSnapshot) {
    this.budget = snap ? { level: snap.budget.level, sorted: [...snap.budget.sorted], fifo: [...snap.budget.fifo] } : BudgetThreshold.initial(budget);
    this.cusum = snap ? { ...snap.cusum } : RiskAdjustedCusum.initial();
  }
}

const NOT_CERTIFIED = 1;

export class EscalationEngine {
  readonly config: EngineConfig;
  private readonly model: OnlineLogistic;
  private readonly tenants = new Map<string, TenantState>();
  private readonly rules = new Map<string, RuleSet>();
  private readonly drifts: DriftEvent[] = [];
  private labelSeq = 0;
  private preferenceSeq = 0;
  /** Escalated decisions drawn into the calibration sample, awaiting their answer. */
  private readonly sampledEscalations = new Set<string>();
  private counters: Counters = {
    decisions: 0, autonomous: 0, preference: 0, escalated: 0, audited: 0, escalationAnswers: 0,
    usefulAnswers: 0, auditAnswers: 0, auditWeight: 0, auditErrorWeight: 0, auditErrors: 0,
  };
  private readonly x = new Float64Array(FEATURE_COUNT);

  constructor(config: EngineConfigInput = {}, model?: LogisticState) {
    this.config = EngineConfig.parse(config);
    this.model = new OnlineLogistic(FEATURE_COUNT, this.config.model.learningRate, this.config.model.l2, model ?? { weights: priorWeights(), updates: 0 });
    for (const [tenantId, rs] of Object.entries(this.config.rules)) this.rules.set(tenantId, rs);
  }

  /** @internal used by preference learners to draw deterministic ids. */
  nextPreferenceId(): number {
    return ++this.preferenceSeq;
  }

  policyFor(tenantId: string): TenantPolicy {
    return { ...this.config.policy, ...(this.config.tenants[tenantId] ?? {}) };
  }

  /** Replaces a tenant's hard rules; the version must increase so verdicts name the rules they used. */
  setRules(tenantId: string, ruleSet: RuleSet): void {
    const current = this.rules.get(tenantId);
    if (current && ruleSet.version <= current.version) throw new Error(`rule set version ${ruleSet.version} must be greater than ${current.version}`);
    this.rules.set(tenantId, ruleSet);
  }

  private tenant(tenantId: string): TenantState {
    let t = this.tenants.get(tenantId);
    if (!t) {
      t = new TenantState(tenantId, this.policyFor(tenantId).budget);
      this.tenants.set(tenantId, t);
    }
    return t;
  }

  private typeState(t: TenantState, type: string): TypeState {
    let s = t.types.get(type);
    if (!s) {
      s = new TypeState(t.tenantId, type, this);
      t.types.set(type, s);
    }
    return s;
  }

  private support(s: Suggestion | undefined): ChoiceSupport | undefined {
    if (!s) return undefined;
    return { fromPreference: true, purity: s.purity, support: s.n, trackAgreed: s.record.agreed, trackSupport: s.record.support, choice: s.record.choice };
  }

  /**
   * Sampling (audit) rate of a decision, fixed from past data only: boosted while its (type, stratum) calibration
   * sample is still smaller than `calibration.target`, the base audit rate afterwards. The rate never depends on the
   * decision's own score or answer, so sampled decisions stay a random sample of their period; audits carry 1/p.
   */
  private sampleRate(ts: TypeState, stratum: Stratum): number {
    const base = this.config.auditRate;
    const { boostedRate, target } = this.config.calibration;
    if (base <= 0 || boostedRate <= base) return base;
    let n = 0;
    for (const r of ts.calibration) if (r.stratum === stratum) n++;
    return n < target ? boostedRate : base;
  }

  private strata(): readonly Stratum[] {
    return this.config.calibration.stratify ? STRATA : ['agent'];
  }

  private stratumOf(fromPreference: boolean): Stratum {
    return this.config.calibration.stratify && fromPreference ? 'pref' : 'agent';
  }

  /**
   * Risk-mode threshold for a (type, stratum): its own certificate, else the tenant's pooled one where valid.
   * With stratification each stratum is tested at δ/2 (Bonferroni over the two strata).
   */
  private riskThreshold(t: TenantState, ts: TypeState, policy: TenantPolicy, stratum: Stratum): { lambda: number; source: string } {
    const strata = this.strata();
    const delta = policy.delta / strata.length;
    const { startFraction, minTypeLabels } = this.config.calibration;
    if (ts.dirty) {
      ts.own = {};
      for (const st of strata) {
        const lambda = learnThenTest(ts.calibration.filter((r) => r.stratum === st), policy.alpha, delta, startFraction);
        if (lambda !== undefined) ts.own[st] = lambda;
      }
      ts.dirty = false;
    }
    const own = ts.own[stratum];
    if (own !== undefined) return { lambda: own, source: 'type' };
    if (!this.config.calibration.pooledFallback) return { lambda: NOT_CERTIFIED, source: 'none' };
    if (t.pooledDirty) {
      t.pooled = {};
      for (const st of strata) {
        const all: CalibrationRecord[] = [];
        for (const s of t.types.values()) for (const r of s.calibration) if (r.stratum === st) all.push(r);
        const lambda = learnThenTest(all, policy.alpha, delta, startFraction);
        if (lambda !== undefined) t.pooled[st] = lambda;
      }
      t.pooledDirty = false;
    }
    const pooled = t.pooled[stratum];
    if (pooled !== undefined && pooledValidFor(ts.calibration.filter((r) => r.stratum === stratum), pooled, policy.alpha, delta, minTypeLabels)) {
      return { lambda: pooled, source: 'pooled' };
    }
    return { lambda: NOT_CERTIFIED, source: 'none' };
  }

  private policyVersion(tenantId: string, policy: TenantPolicy): string {
    const rules = this.rules.get(tenantId)?.version ?? 0;
    return policy.mode === 'risk' ? `rules@${rules}/risk(α=${policy.alpha},δ=${policy.delta})/labels@${this.labelSeq}` : `rules@${rules}/budget(b=${policy.budget})/labels@${this.labelSeq}`;
  }

  decide(d: DecisionInput): Verdict {
    const t = this.tenant(d.tenantId);
    const ts = this.typeState(t, d.type);
    const policy = this.policyFor(d.tenantId);
    const rule = evaluateRules(this.rules.get(d.tenantId), d);
    const tokens = contextTokens(d.context);
    const optionIds = new Set(d.options.map((o) => o.id));

    const nums = contextNumbers(d.context);
    const suggestion = ts.prefs.suggest(tokens, optionIds, nums);
    const usable = suggestion && (suggestion.record.status === 'active' || this.config.preferences.candidatesSuggest) ? suggestion : undefined;
    const choice = usable?.record.choice ?? d.proposal;
    const signature = tokens.join('|');
    const fstate: FeatureState = { history: ts.history, typeCount: ts.count, signatureCount: ts.signatures.get(signature) ?? 0 };
    const x = featurize(this.x, d, typeSlot(d.tenantId, d.type), this.support(usable), choice !== undefined, fstate);
    const score = choice === undefined ? 0 : this.model.predict(x);

    ts.count++;
    if (ts.signatures.has(signature) || ts.signatures.size < MAX_SIGNATURES) ts.signatures.set(signature, (ts.signatures.get(signature) ?? 0) + 1);

    const reasons: string[] = [];
    let outcome: Verdict['outcome'];
    let basis: Verdict['basis'];
    let threshold: number;
    const prefReason = usable
      ? `preference ${usable.record.id} (${usable.record.status}): when ${usable.record.condition} → ${usable.record.choice} (${usable.agreeing}/${usable.n} answers agree${usable.record.support > 0 ? `, ${usable.record.agreed}/${usable.record.support} since created` : ''})`
      : undefined;
    const proposalReason = usable && d.proposal !== undefined && d.proposal !== usable.record.choice ? `replaces the agent's proposal ${d.proposal}` : undefined;

    const stratum = this.stratumOf(usable !== undefined);
    if (policy.mode === 'risk') threshold = this.riskThreshold(t, ts, policy, stratum).lambda;
    else threshold = new BudgetThreshold(t.budget).threshold();
    if (!Number.isFinite(threshold)) threshold = threshold > 0 ? NOT_CERTIFIED : 0;

    if (rule.kind === 'escalate') {
      outcome = 'escalate';
      basis = 'rule';
      reasons.push(rule.reason);
    } else if (rule.kind === 'never_escalate') {
      if (choice === undefined && d.fallback === undefined) {
        outcome = 'escalate';
        basis = 'no_choice';
        reasons.push(`${rule.reason}, but there is no proposal, preference or fallback to act on`);
      } else {
        outcome = usable?.record.status === 'active' ? 'preference' : 'autonomous';
        basis = 'rule';
        reasons.push(rule.reason);
      }
    } else if (usable?.record.status === 'active') {
      outcome = 'preference';
      basis = 'preference';
    } else if (choice === undefined) {
      outcome = 'escalate';
      basis = 'no_choice';
      reasons.push('no proposal and no learned preference for this context');
    } else if (policy.mode === 'risk') {
      const { source } = this.riskThreshold(t, ts, policy, stratum);
      const what = !this.config.calibration.stratify ? d.type : stratum === 'pref' ? `acting on learned preferences for ${d.type}` : `acting on the agent's proposals for ${d.type}`;
      basis = source === 'none' ? 'not_earned' : 'threshold';
      if (source === 'none') {
        outcome = 'escalate';
        reasons.push(`autonomy not yet earned for ${what}: too few labelled decisions to prove error ≤ ${policy.alpha} at ${1 - policy.delta} confidence`);
      } else if (score >= threshold) {
        outcome = 'autonomous';
        reasons.push(`score ${score.toFixed(3)} ≥ ${source === 'type' ? 'type' : 'pooled'} threshold ${threshold.toFixed(3)} for ${what} (error ≤ ${policy.alpha} certified)`);
      } else {
        outcome = 'escalate';
        reasons.push(`score ${score.toFixed(3)} below the certified threshold ${threshold.toFixed(3)} for ${what}`);
      }
    } else {
      const budget = new BudgetThreshold(t.budget);
      const escalate = budget.escalates(score);
      basis = 'budget';
      budget.observe(score, escalate, policy.budget, this.config.budgetStep);
      outcome = escalate ? 'escalate' : 'autonomous';
      reasons.push(escalate ? `score ${score.toFixed(3)} among the lowest ${(policy.budget * 100).toFixed(1)}% (budget mode)` : `score ${score.toFixed(3)} above the budget threshold ${threshold.toFixed(3)}`);
    }
    if (prefReason) reasons.push(prefReason);
    if (proposalReason) reasons.push(proposalReason);
    for (const note of rule.kind === 'none' ? rule.notes : []) reasons.push(note);
    if (d.confidence !== undefined) reasons.push(`agent's stated confidence ${d.confidence.toFixed(2)}`);
    if (ts.count <= 20) reasons.push(`novel decision type (${ts.count} seen)`);

    let finalChoice = choice;
    if (outcome !== 'escalate' && finalChoice === undefined && d.fallback !== undefined) {
      finalChoice = d.fallback;
      reasons.push(`acting on the declared fallback ${d.fallback}`);
    }

    // One hash-drawn sample, at a rate fixed before the outcome is known: autonomous members are audited (weight 1/p),
    // escalated members are answered anyway; both join the calibration sample.
    let audit = false;
    let auditWeight: number | undefined;
    const rate = rule.kind === 'none' ? this.sampleRate(ts, stratum) : this.config.auditRate;
    const drawn = rate > 0 && hashUniform(`audit|${d.tenantId}|${d.id}`, this.config.seed) < rate;
    if (outcome !== 'escalate' && drawn) {
      audit = true;
      auditWeight = 1 / rate;
    } else if (outcome === 'escalate' && drawn) {
      this.sampledEscalations.add(`${d.tenantId}|${d.id}`);
      if (this.sampledEscalations.size > MAX_PENDING_SAMPLES) {
        const oldest = this.sampledEscalations.values().next().value;
        if (oldest !== undefined) this.sampledEscalations.delete(oldest);
      }
    }

    this.counters.decisions++;
    if (outcome === 'escalate') this.counters.escalated++;
    else if (outcome === 'preference') this.counters.preference++;
    else this.counters.autonomous++;
    if (audit) this.counters.audited++;

    return {
      decisionId: d.id,
      outcome,
      basis,
      ...(finalChoice === undefined ? {} : { choice: finalChoice }),
      ...(d.proposal === undefined ? {} : { proposal: d.proposal }),
      score,
      threshold,
      policyVersion: this.policyVersion(d.tenantId, policy),
      reasons,
      audit,
      ...(auditWeight === undefined ? {} : { auditWeight }),
      ...(usable ? { preferenceId: usable.record.id } : {}),
    };
  }

  /** Learns from the person's answer to an escalation or an audit. */
  learn(d: DecisionInput, verdict: Verdict, humanChoice: string, source: LabelSource): void {
    if (!d.options.some((o) => o.id === humanChoice)) throw new Error(`answer "${humanChoice}" is not an option of decision ${d.id}`);
    if (verdict.decisionId !== d.id) throw new Error(`verdict ${verdict.decisionId} does not belong to decision ${d.id}`);
    const seq = ++this.labelSeq;
    const t = this.tenant(d.tenantId);
    const ts = this.typeState(t, d.type);
    const policy = this.policyFor(d.tenantId);
    const tokens = contextTokens(d.context);
    const correct = verdict.choice !== undefined && humanChoice === verdict.choice;
    const weight = source === 'audit' ? (verdict.auditWeight ?? 1 / Math.max(this.config.auditRate, 1e-9)) : 1;

    // Scoring model: features as at decision time, as far as they can be rebuilt (the preference's current stats).
    if (verdict.choice !== undefined) {
      const rec = verdict.preferenceId === undefined ? undefined : ts.prefs.record(verdict.preferenceId);
      const sup: ChoiceSupport | undefined = rec ? { fromPreference: true, purity: purityOf(rec.n, rec.agreeing), support: rec.n, trackAgreed: rec.agreed, trackSupport: rec.support, choice: rec.choice } : undefined;
      const signature = tokens.join('|');
      const fstate: FeatureState = { history: ts.history, typeCount: ts.count, signatureCount: Math.max(0, (ts.signatures.get(signature) ?? 1) - 1) };
      const x = featurize(this.x, d, typeSlot(d.tenantId, d.type), sup, true, fstate);
      this.model.update(x, correct ? 1 : 0, weight);
    }

    ts.prefs.learn(tokens, humanChoice, seq, d.at, policy.alpha, contextNumbers(d.context));
    if (d.proposal !== undefined) {
      const k = this.config.model.historyDecay;
      ts.history = k * ts.history + (1 - k) * (humanChoice === d.proposal ? 1 : 0);
    }

    const rule = evaluateRules(this.rules.get(d.tenantId), d);
    // Calibration must be a sample of decisions whose selection ignores their score: decisions escalated because the
    // type had no certificate yet (all of them were labelled), plus a hash-drawn share of every later decision
    // (audited if autonomous, answered anyway if escalated). Escalations caused by a low score are left out: they
    // would over-represent hard cases. Within each period all records carry the same weight 1/π, so plain counts
    // are the importance-weighted estimate.
    const sampledKey = `${d.tenantId}|${d.id}`;
    const inSample = verdict.outcome === 'escalate' ? this.sampledEscalations.has(sampledKey) : verdict.audit;
    this.sampledEscalations.delete(sampledKey);
    const unconditional = verdict.outcome === 'escalate' && verdict.threshold >= NOT_CERTIFIED;
    if (verdict.choice !== undefined && rule.kind === 'none' && (inSample || unconditional)) {
      ts.calibration.push({ seq, score: verdict.score, correct, stratum: this.stratumOf(verdict.preferenceId !== undefined) });
      if (ts.calibration.length > this.config.calibration.window) ts.calibration.shift();
      ts.dirty = true;
      t.pooledDirty = true;
    }

    // Drift: every labelled decision with a choice, each judged against its own predicted error (1 − score).
    if (verdict.choice !== undefined) {
      const { oddsRatio, threshold } = this.config.drift;
      // The predicted error never goes below α/2: a person's own answer noise (0.5–1%) is not drift, and the scoring
      // model's 0.998s would otherwise turn every few noisy answers into an alarm that throws certificates away.
      const p0 = Math.max(1 - verdict.score, policy.alpha / 2);
      const typeAlarm = new RiskAdjustedCusum(ts.cusum).observe(!correct, p0, seq, oddsRatio, threshold);
      const tenantAlarm = new RiskAdjustedCusum(t.cusum).observe(!correct, p0, seq, oddsRatio, threshold);
      if (typeAlarm) this.onDrift(t, [ts], ts.cusum, d.at, seq);
      else if (tenantAlarm) {
        // A tenant-wide alarm resets only the types that also show their own excess errors (statistic above half the alarm level).
        const affected = [...t.types.values()].filter((s) => s.cusum.statistic > threshold / 2);
        if (affected.length > 0) this.onDrift(t, affected, t.cusum, d.at, seq);
      }
    }
    if (verdict.choice !== undefined && !correct) ts.errorSeqs.push(seq);
    if (ts.errorSeqs.length > 50) ts.errorSeqs.shift();

    if (source === 'escalation') {
      this.counters.escalationAnswers++;
      if (d.proposal === undefined || humanChoice !== d.proposal) this.counters.usefulAnswers++;
    } else {
      this.counters.auditAnswers++;
      this.counters.auditWeight += weight;
      if (!correct) {
        this.counters.auditErrors++;
        this.counters.auditErrorWeight += weight;
      }
    }
  }

  private onDrift(t: TenantState, affected: TypeState[], alarm: CusumState, at: number, seq: number): void {
    const runStart = alarm.runStart;
    const statistic = alarm.statistic;
    for (const ts of affected) {
      const demoted = ts.prefs.reset(runStart, at, seq);
      // Recalibrate from scratch: labels scored under the old regime say nothing about the new one.
      ts.calibration = [];
      ts.dirty = true;
      ts.cusum.statistic = 0;
      this.drifts.push({ tenantId: t.tenantId, type: ts.type, at, labelSeq: seq, statistic, demotedPreferences: demoted });
    }
    t.cusum.statistic = 0;
    t.pooledDirty = true;
  }

  preferences(tenantId?: string, type?: string): Preference[] {
    const out: Preference[] = [];
    for (const t of this.tenants.values()) {
      if (tenantId !== undefined && t.tenantId !== tenantId) continue;
      for (const ts of t.types.values()) if (type === undefined || ts.type === type) out.push(...ts.prefs.list());
    }
    return out;
  }

  /** Revokes a preference for good: it stops acting and the same condition → choice is not learned again. */
  revokePreference(id: string, at = 0): boolean {
    for (const t of this.tenants.values()) for (const ts of t.types.values()) if (ts.prefs.has(id)) return ts.prefs.revoke(id, at);
    return false;
  }

  driftEvents(): DriftEvent[] {
    return this.drifts.map((e) => ({ ...e, demotedPreferences: [...e.demotedPreferences] }));
  }

  /** Current threshold for a (tenant, type): where it comes from ('type', 'pooled', 'none'/'budget') and its value. */
  thresholdFor(tenantId: string, type: string): { lambda: number; source: string } {
    const t = this.tenant(tenantId);
    const policy = this.policyFor(tenantId);
    if (policy.mode === 'budget') return { lambda: new BudgetThreshold(t.budget).threshold(), source: 'budget' };
    const ts = this.typeState(t, type);
    // The agent stratum's certificate, or the preference stratum's when only that one is certified.
    const agent = this.riskThreshold(t, ts, policy, 'agent');
    return agent.source === 'none' && this.config.calibration.stratify ? this.riskThreshold(t, ts, policy, 'pref') : agent;
  }

  metrics(): EngineMetrics {
    const c = this.counters;
    const acted = c.autonomous + c.preference;
    const ci = clopperPearson(c.auditErrors, c.auditAnswers);
    let active = 0;
    let candidate = 0;
    for (const t of this.tenants.values()) {
      for (const ts of t.types.values()) {
        const c = ts.prefs.counts();
        active += c.active;
        candidate += c.candidate;
      }
    }
    return {
      decisions: c.decisions,
      autonomous: c.autonomous,
      preference: c.preference,
      escalated: c.escalated,
      audited: c.audited,
      autonomyRate: c.decisions === 0 ? 0 : acted / c.decisions,
      escalationRate: c.decisions === 0 ? 0 : c.escalated / c.decisions,
      usefulness: c.escalationAnswers === 0 ? 0 : c.usefulAnswers / c.escalationAnswers,
      escalationAnswers: c.escalationAnswers,
      auditAnswers: c.auditAnswers,
      // Horvitz–Thompson ratio: every audit carries weight 1/p, so errors and audits are weighted alike.
      estimatedAutonomousError: { estimate: c.auditWeight === 0 ? 0 : c.auditErrorWeight / c.auditWeight, lower: ci.lower, upper: ci.upper },
      driftEvents: this.drifts.length,
      activePreferences: active,
      candidatePreferences: candidate,
    };
  }

  snapshot(): EngineSnapshot {
    const tenants: TenantSnapshot[] = [...this.tenants.values()].map((t) => ({
      tenantId: t.tenantId,
      budget: { level: t.budget.level, sorted: [...t.budget.sorted], fifo: [...t.budget.fifo] },
      cusum: { ...t.cusum },
      types: [...t.types.values()].map((ts) => ts.snapshot()),
    }));
    return {
      version: SNAPSHOT_VERSION,
      labelSeq: this.labelSeq,
      preferenceSeq: this.preferenceSeq,
      counters: { ...this.counters },
      model: this.model.state(),
      rules: Object.fromEntries(this.rules.entries()),
      driftEvents: this.driftEvents(),
      sampledEscalations: [...this.sampledEscalations],
      tenants,
    };
  }

  static restore(config: EngineConfigInput, snapshot: unknown): EscalationEngine {
    const version = typeof snapshot === 'object' && snapshot !== null ? (snapshot as { version?: unknown }).version : undefined;
    if (version !== SNAPSHOT_VERSION) {
      throw new Error(`cannot restore an escalation-engine snapshot of version ${String(version)}: this engine reads version ${SNAPSHOT_VERSION} only (learned state must be rebuilt from answers)`);
    }
    const snap = EngineSnapshot.parse(snapshot);
    const engine = new EscalationEngine(config, snap.model);
    engine.labelSeq = snap.labelSeq;
    engine.preferenceSeq = snap.preferenceSeq;
    engine.counters = { ...engine.counters, ...snap.counters };
    for (const [tenantId, rs] of Object.entries(snap.rules)) engine.rules.set(tenantId, rs);
    for (const e of snap.driftEvents) engine.drifts.push(e);
    for (const k of snap.sampledEscalations) engine.sampledEscalations.add(k);
    for (const ts of snap.tenants) {
      const t = new TenantState(ts.tenantId, engine.policyFor(ts.tenantId).budget, ts);
      for (const ty of ts.types) t.types.set(ty.type, new TypeState(ts.tenantId, ty.type, engine, ty));
      engine.tenants.set(ts.tenantId, t);
    }
    return engine;
  }
}

export type { PreferenceRecord };
