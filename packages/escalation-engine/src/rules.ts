// Hard rules: data, per tenant, versioned; they win over every learned layer.
import type { DecisionInput, JsonValue, Rule, RuleSet } from './schemas.js';

/** Exact match or a glob where `*` matches any run of characters (`deploy.*`). */
export function matchType(pattern: string, type: string): boolean {
  if (!pattern.includes('*')) return pattern === type;
  const escaped = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`).test(type);
}

function jsonEquals(a: JsonValue | undefined, b: JsonValue): boolean {
  if (a === undefined) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

export function ruleMatches(rule: Rule, d: DecisionInput): boolean {
  if (rule.when.type !== undefined && !matchType(rule.when.type, d.type)) return false;
  const ctx = rule.when.context ?? {};
  for (const [key, value] of Object.entries(ctx)) {
    if (!jsonEquals(d.context[key], value)) return false;
  }
  return true;
}

export function isIrreversible(d: DecisionInput): boolean {
  return d.context.reversible === false;
}

export function isCritical(d: DecisionInput): boolean {
  return d.context.critical === true || d.context.urgency === 'critical';
}

export type RuleEvaluation =
  | { kind: 'escalate'; reason: string; ruleId?: string }
  | { kind: 'never_escalate'; reason: string; ruleId: string }
  | { kind: 'none'; notes: string[] };

/** Precedence: an always_escalate rule beats a never_escalate rule; irreversible/critical escalate unless allowed. */
export function evaluateRules(ruleSet: RuleSet | undefined, d: DecisionInput): RuleEvaluation {
  const rules = ruleSet?.rules ?? [];
  const always = rules.find((r) => r.action === 'always_escalate' && ruleMatches(r, d));
  if (always) return { kind: 'escalate', reason: `rule ${always.id}: always escalate`, ruleId: always.id };
  const never = rules.find((r) => r.action === 'never_escalate' && ruleMatches(r, d));
  if (never) return { kind: 'never_escalate', reason: `rule ${never.id}: never escalate`, ruleId: never.id };
  const notes: string[] = [];
  if (isIrreversible(d)) {
    if (ruleSet?.allowIrreversible !== true) return { kind: 'escalate', reason: 'irreversible action: always escalated' };
    notes.push('irreversible, allowed by tenant rules');
  }
  if (isCritical(d)) {
    if (ruleSet?.allowCritical !== true) return { kind: 'escalate', reason: 'critical action: always escalated' };
    notes.push('critical, allowed by tenant rules');
  }
  return { kind: 'none', notes };
}
