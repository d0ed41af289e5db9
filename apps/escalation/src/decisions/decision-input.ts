import type { DecisionRequestedV1 } from '@steward/contracts';
import type { DecisionInput } from '@steward/escalation-engine';

const URGENCY = { low: 0, normal: 1, high: 2, critical: 3 } as const;
type UrgencyName = keyof typeof URGENCY;

const num01 = (v: unknown): number | undefined => (typeof v === 'number' && v >= 0 && v <= 1 ? v : undefined);

/** The person who answers a decision: `context.recipient`, or `default`. */
export function recipientOf(context: Record<string, unknown>): string {
  const r = context['recipient'];
  return typeof r === 'string' && r.length > 0 && r.length <= 200 ? r : 'default';
}

export function isCritical(context: Record<string, unknown>): boolean {
  return context['critical'] === true || context['urgency'] === 'critical';
}

/** 0 (low) … 3 (critical), for ordering a batch. */
export function urgencyOf(context: Record<string, unknown>): number {
  if (isCritical(context)) return URGENCY.critical;
  const u = context['urgency'];
  return typeof u === 'string' && u in URGENCY ? URGENCY[u as UrgencyName] : URGENCY.normal;
}

/**
 * The engine's view of a requested decision. Context fields the engine types strictly (risk, urgency, …) are passed
 * only when well-formed; a malformed one is left out rather than refusing the decision.
 */
export function toDecisionInput(d: Pick<DecisionRequestedV1, 'decisionId' | 'tenantId' | 'type' | 'options' | 'proposal' | 'context' | 'fallback'>, at: Date): DecisionInput {
  const ctx: Record<string, unknown> = { ...d.context };
  const keepIf = (k: string, ok: (v: unknown) => boolean): void => {
    if (k in ctx && !ok(ctx[k])) delete ctx[k];
  };
  keepIf('risk', (v) => v === 'low' || v === 'medium' || v === 'high');
  keepIf('reversible', (v) => typeof v === 'boolean');
  keepIf('critical', (v) => typeof v === 'boolean');
  keepIf('urgency', (v) => typeof v === 'string' && v in URGENCY);
  keepIf('cost', (v) => typeof v === 'number' && Number.isFinite(v));
  keepIf('blastRadius', (v) => (typeof v === 'number' && Number.isFinite(v)) || v === 'low' || v === 'medium' || v === 'high');
  const confidence = num01(ctx['confidence']);
  const sampleAgreement = num01(ctx['sampleAgreement']);
  delete ctx['confidence'];
  delete ctx['sampleAgreement'];
  const ids = new Set(d.options.map((o) => o.id));
  return {
    id: d.decisionId,
    tenantId: d.tenantId,
    type: d.type,
    options: d.options,
    ...(d.proposal !== undefined && ids.has(d.proposal) ? { proposal: d.proposal } : {}),
    ...(confidence !== undefined ? { confidence } : {}),
    ...(sampleAgreement !== undefined ? { sampleAgreement } : {}),
    context: ctx as DecisionInput['context'],
    ...(d.fallback !== undefined && ids.has(d.fallback) ? { fallback: d.fallback } : {}),
    recipient: recipientOf(d.context),
    at: at.getTime(),
  };
}

/** A score as the events carry it: a probability, whatever the model's arithmetic produced. */
export const asProbability = (x: number): number => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0);
