// Public data shapes: each zod schema and its inferred type share one name.
import { VerdictBasis } from '@steward/contracts';
import { z } from 'zod';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export const JsonValue: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(JsonValue), z.record(z.string(), JsonValue)]),
);

export const Level = z.enum(['low', 'medium', 'high']);
export type Level = z.infer<typeof Level>;
export const Urgency = z.enum(['low', 'normal', 'high', 'critical']);
export type Urgency = z.infer<typeof Urgency>;

export const DecisionOption = z.object({ id: z.string().min(1), label: z.string() });
export type DecisionOption = z.infer<typeof DecisionOption>;

/** Recognised context fields; any other field is a free attribute preferences may learn from. */
export const DecisionContext = z
  .object({
    risk: Level.optional(),
    reversible: z.boolean().optional(),
    critical: z.boolean().optional(),
    blastRadius: z.union([z.number(), Level]).optional(),
    cost: z.number().optional(),
    urgency: Urgency.optional(),
  })
  .catchall(JsonValue);
export type DecisionContext = z.infer<typeof DecisionContext>;

export const DecisionInput = z
  .object({
    id: z.string().min(1),
    tenantId: z.string().min(1),
    type: z.string().min(1),
    options: z.array(DecisionOption).min(1),
    proposal: z.string().optional(),
    confidence: z.number().min(0).max(1).optional(),
    sampleAgreement: z.number().min(0).max(1).optional(),
    context: DecisionContext,
    fallback: z.string().optional(),
    recipient: z.string().optional(),
    at: z.number().int().nonnegative(),
  })
  .superRefine((d, ctx) => {
    const ids = new Set(d.options.map((o) => o.id));
    if (d.proposal !== undefined && !ids.has(d.proposal)) ctx.addIssue({ code: 'custom', message: `proposal "${d.proposal}" is not an option id`, path: ['proposal'] });
    if (d.fallback !== undefined && !ids.has(d.fallback)) ctx.addIssue({ code: 'custom', message: `fallback "${d.fallback}" is not an option id`, path: ['fallback'] });
  });
export type DecisionInput = z.infer<typeof DecisionInput>;

export const Outcome = z.enum(['autonomous', 'preference', 'escalate']);
export type Outcome = z.infer<typeof Outcome>;

// What settled a verdict is a word the audit stream and the gateway share, so it is defined with the events.
export { VerdictBasis } from '@steward/contracts';

export const Verdict = z.object({
  decisionId: z.string(),
  outcome: Outcome,
  basis: VerdictBasis,
  choice: z.string().optional(),
  proposal: z.string().optional(),
  score: z.number(),
  threshold: z.number(),
  policyVersion: z.string(),
  reasons: z.array(z.string()),
  audit: z.boolean(),
  auditWeight: z.number().optional(),
  preferenceId: z.string().optional(),
});
export type Verdict = z.infer<typeof Verdict>;

export const RuleAction = z.enum(['always_escalate', 'never_escalate']);
export type RuleAction = z.infer<typeof RuleAction>;

export const Rule = z.object({
  id: z.string().min(1),
  when: z.object({
    type: z.string().optional(),
    context: z.record(z.string(), JsonValue).optional(),
  }),
  action: RuleAction,
});
export type Rule = z.infer<typeof Rule>;

export const RuleSet = z.object({
  version: z.number().int().nonnegative(),
  rules: z.array(Rule),
  allowIrreversible: z.boolean().optional(),
  allowCritical: z.boolean().optional(),
});
export type RuleSet = z.infer<typeof RuleSet>;

export const PolicyMode = z.enum(['risk', 'budget']);
export type PolicyMode = z.infer<typeof PolicyMode>;

/** Threshold policy of one tenant. */
export const TenantPolicy = z.object({
  mode: PolicyMode.default('risk'),
  alpha: z.number().gt(0).lt(1).default(0.02),
  delta: z.number().gt(0).lt(1).default(0.05),
  budget: z.number().gt(0).lt(1).default(0.05),
});
export type TenantPolicy = z.infer<typeof TenantPolicy>;

export const EngineConfig = z.object({
  seed: z.number().int().default(1),
  policy: TenantPolicy.default({ mode: 'risk', alpha: 0.02, delta: 0.05, budget: 0.05 }),
  /** Per-tenant overrides of the threshold policy. */
  tenants: z.record(z.string(), TenantPolicy.partial()).default({}),
  /** Hard rules per tenant. */
  rules: z.record(z.string(), RuleSet).default({}),
  auditRate: z.number().min(0).max(1).default(0.03),
  preferences: z
    .object({
      /** Minimum labelled answers in a condition before it may suggest a choice. */
      minSupport: z.number().int().positive().default(5),
      /** A candidate's smoothed disagreement (dis + ½)/(n + 1) must stay at or below this. */
      maxCandidateDisagreement: z.number().gt(0).lt(1).default(0.1),
      /** Labelled answers kept per (tenant, type) for learning conditions (forgetting window). */
      window: z.number().int().positive().default(600),
      /** Depth of the per-type decision tree, i.e. fields in a preference's condition. */
      maxDepth: z.number().int().min(1).max(6).default(4),
      /** A tree split must pass a G-test at this level, so isolated noisy answers do not become rules. */
      splitSignificance: z.number().gt(0).lt(1).default(0.01),
      /** Let unpromoted candidates supply the choice; autonomy then still needs the risk/budget threshold. */
      candidatesSuggest: z.boolean().default(true),
    })
    .default({ minSupport: 5, maxCandidateDisagreement: 0.1, window: 600, maxDepth: 4, splitSignificance: 0.01, candidatesSuggest: true }),
  calibration: z
    .object({
      /** Labelled decisions kept per (tenant, type) for Learn-then-Test. */
      window: z.number().int().positive().default(2000),
      /** A type needs this many own labels before the pooled threshold may apply to it. */
      minTypeLabels: z.number().int().nonnegative().default(30),
      /** Allow the pooled (all types of the tenant) threshold for types without their own certificate. */
      pooledFallback: z.boolean().default(true),
      /** Learn-then-Test scans from the top max(kMin, startFraction·n) scores towards looser thresholds. */
      startFraction: z.number().min(0).max(1).default(0),
      /**
       * Certify "act on a learned preference's choice" and "act on the agent's proposal" separately, each with its
       * own fixed-sequence test at δ/2 (Bonferroni), instead of one test over both.
       */
      stratify: z.boolean().default(false),
      /** Sampling (audit) rate while a (type, stratum) has fewer than `target` calibration labels; ≤ auditRate disables. */
      boostedRate: z.number().min(0).max(1).default(0.12),
      target: z.number().int().nonnegative().default(300),
    })
    .default({ window: 2000, minTypeLabels: 30, pooledFallback: true, startFraction: 0, stratify: false, boostedRate: 0.12, target: 300 }),
  model: z
    .object({
      learningRate: z.number().positive().default(0.05),
      l2: z.number().nonnegative().default(1e-4),
      /** Forgetting factor of the per-type approval history (EWMA). */
      historyDecay: z.number().gt(0).lt(1).default(0.97),
    })
    .default({ learningRate: 0.05, l2: 1e-4, historyDecay: 0.97 }),
  drift: z
    .object({
      /** Risk-adjusted CUSUM: odds ratio of the error rate it is built to detect. */
      oddsRatio: z.number().gt(1).default(4),
      /** Alarm level (log-likelihood ratio). */
      threshold: z.number().positive().default(5),
    })
    .default({ oddsRatio: 4, threshold: 5 }),
  budgetStep: z.number().positive().default(0.01),
});
export type EngineConfig = z.infer<typeof EngineConfig>;
export type EngineConfigInput = z.input<typeof EngineConfig>;

export const PreferenceStatus = z.enum(['candidate', 'active', 'revoked', 'demoted']);
export type PreferenceStatus = z.infer<typeof PreferenceStatus>;

/** A learned preference as shown to the person. */
export const Preference = z.object({
  id: z.string(),
  tenantId: z.string(),
  type: z.string(),
  /** Readable condition, e.g. `env=prod & risk=high`, or `*` for every decision of the type. */
  condition: z.string(),
  choice: z.string(),
  /** Labelled answers matching the condition since the preference was created. */
  support: z.number().int(),
  /** Share of those answers equal to `choice`. */
  agreement: z.number(),
  /** One-sided 95% Clopper–Pearson lower bound of the agreement. */
  lowerBound: z.number(),
  /** Labelled answers in the learning window that formed the preference (in-sample evidence). */
  evidence: z.object({ n: z.number().int(), agreeing: z.number().int() }),
  status: PreferenceStatus,
  statusReason: z.string().optional(),
  createdAt: z.number(),
  updatedAt: z.number(),
});
export type Preference = z.infer<typeof Preference>;

export const DriftEvent = z.object({
  tenantId: z.string(),
  type: z.string(),
  at: z.number(),
  /** Sequence number of the labelled answer that raised the alarm. */
  labelSeq: z.number().int(),
  statistic: z.number(),
  demotedPreferences: z.array(z.string()),
});
export type DriftEvent = z.infer<typeof DriftEvent>;

export const Interval = z.object({ estimate: z.number(), lower: z.number(), upper: z.number() });
export type Interval = z.infer<typeof Interval>;

export const EngineMetrics = z.object({
  decisions: z.number().int(),
  autonomous: z.number().int(),
  preference: z.number().int(),
  escalated: z.number().int(),
  audited: z.number().int(),
  autonomyRate: z.number(),
  escalationRate: z.number(),
  /** Share of answered escalations where the person's answer differed from the agent's proposal. */
  usefulness: z.number(),
  escalationAnswers: z.number().int(),
  auditAnswers: z.number().int(),
  /** Importance-weighted autonomous error from audits, with a 95% Clopper–Pearson interval. */
  estimatedAutonomousError: Interval,
  driftEvents: z.number().int(),
  activePreferences: z.number().int(),
  candidatePreferences: z.number().int(),
});
export type EngineMetrics = z.infer<typeof EngineMetrics>;
