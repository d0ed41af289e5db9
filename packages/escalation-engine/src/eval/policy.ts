// The simulated professional: a hidden policy (rules on type/context → choice) answering with noise.
import { z } from 'zod';
import { hashUniform } from '../prng.js';
import { matchType } from '../rules.js';
import { type DecisionInput, JsonValue } from '../schemas.js';

/** A context condition: a literal (equality) or a comparison object. */
export const FieldCondition = z.union([
  JsonValue,
  z
    .object({
      eq: JsonValue.optional(),
      ne: JsonValue.optional(),
      in: z.array(JsonValue).optional(),
      gte: z.number().optional(),
      gt: z.number().optional(),
      lte: z.number().optional(),
      lt: z.number().optional(),
    })
    .strict(),
]);
export type FieldCondition = z.infer<typeof FieldCondition>;

export const PolicyRule = z.object({
  /** Decision type, exact or glob (`deploy.*`, `*`). */
  type: z.string().default('*'),
  when: z.record(z.string(), FieldCondition).default({}),
  /** Option id the person picks; the rule is skipped when the decision has no such option. */
  choice: z.string(),
  note: z.string().optional(),
});
export type PolicyRule = z.infer<typeof PolicyRule>;

export const PolicyRegime = z.object({
  rules: z.array(PolicyRule).default([]),
  /** Choice when no rule matches: per type (exact or glob); otherwise the first option. */
  defaults: z.record(z.string(), z.string()).default({}),
  /** Probability the person answers something else than their rule says (slips, mood, missing context). */
  noise: z.number().min(0).max(1).optional(),
});
export type PolicyRegime = z.infer<typeof PolicyRegime>;

export const SimPolicy = PolicyRegime.extend({
  name: z.string().default('policy'),
  description: z.string().optional(),
  noise: z.number().min(0).max(1).default(0.005),
  /** After decision index `after` (0-based, in stream order) the `then` regime applies instead. */
  drift: z.object({ after: z.number().int().nonnegative(), then: PolicyRegime }).optional(),
  /** Agent accuracy per type for the generator (share of proposals equal to the person's intended choice). */
  agent: z
    .object({
      accuracy: z.record(z.string(), z.number().min(0).max(1)).default({}),
      /** Types whose stated confidence carries no signal. */
      uninformativeConfidence: z.array(z.string()).default([]),
    })
    .optional(),
});
export type SimPolicy = z.infer<typeof SimPolicy>;
export type SimPolicyInput = z.input<typeof SimPolicy>;

function isComparison(c: FieldCondition): c is { eq?: JsonValue; ne?: JsonValue; in?: JsonValue[]; gte?: number; gt?: number; lte?: number; lt?: number } {
  return typeof c === 'object' && c !== null && !Array.isArray(c) && ['eq', 'ne', 'in', 'gte', 'gt', 'lte', 'lt'].some((k) => k in c) && Object.keys(c).every((k) => ['eq', 'ne', 'in', 'gte', 'gt', 'lte', 'lt'].includes(k));
}

const same = (a: JsonValue | undefined, b: JsonValue): boolean => a !== undefined && JSON.stringify(a) === JSON.stringify(b);

export function fieldMatches(value: JsonValue | undefined, cond: FieldCondition): boolean {
  if (!isComparison(cond)) return same(value, cond);
  if (cond.eq !== undefined && !same(value, cond.eq)) return false;
  if (cond.ne !== undefined && same(value, cond.ne)) return false;
  if (cond.in !== undefined && !cond.in.some((v) => same(value, v))) return false;
  const num = typeof value === 'number' ? value : undefined;
  if (cond.gte !== undefined && !(num !== undefined && num >= cond.gte)) return false;
  if (cond.gt !== undefined && !(num !== undefined && num > cond.gt)) return false;
  if (cond.lte !== undefined && !(num !== undefined && num <= cond.lte)) return false;
  if (cond.lt !== undefined && !(num !== undefined && num < cond.lt)) return false;
  return true;
}

export class SimulatedProfessional {
  constructor(
    readonly policy: SimPolicy,
    private readonly seed = 1,
  ) {}

  regime(index: number): PolicyRegime & { noise: number } {
    const drift = this.policy.drift;
    if (drift && index >= drift.after) return { ...drift.then, noise: drift.then.noise ?? this.policy.noise };
    return { rules: this.policy.rules, defaults: this.policy.defaults, noise: this.policy.noise };
  }

  /** The person's intended choice (their rule, before noise). */
  intended(d: DecisionInput, index: number): string {
    const regime = this.regime(index);
    const ids = new Set(d.options.map((o) => o.id));
    for (const rule of regime.rules) {
      if (!matchType(rule.type, d.type) || !ids.has(rule.choice)) continue;
      if (Object.entries(rule.when).every(([field, cond]) => fieldMatches(d.context[field], cond))) return rule.choice;
    }
    const exact = regime.defaults[d.type];
    if (exact !== undefined && ids.has(exact)) return exact;
    for (const [pattern, choice] of Object.entries(regime.defaults)) if (matchType(pattern, d.type) && ids.has(choice)) return choice;
    return d.options[0]?.id ?? '';
  }

  /** The answer the person gives for this decision: deterministic per decision id (asking twice gives one answer). */
  answer(d: DecisionInput, index: number): string {
    const intended = this.intended(d, index);
    const { noise } = this.regime(index);
    if (d.options.length < 2 || hashUniform(`noise|${d.id}`, this.seed) >= noise) return intended;
    const others = d.options.filter((o) => o.id !== intended);
    const pick = others[Math.floor(hashUniform(`alt|${d.id}`, this.seed) * others.length)];
    return pick?.id ?? intended;
  }
}
