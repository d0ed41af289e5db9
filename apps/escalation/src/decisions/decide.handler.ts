import { makeEvent, type DecisionRequestedV1, type Envelope } from '@steward/contracts';
import type { Verdict } from '@steward/escalation-engine';
import { json, type UnitOfWorkContext } from '@steward/state';
import { addToBatch, type Batching } from '../batches/batches.js';
import type { EngineStore } from '../engine/engine-store.js';
import { asProbability, isCritical, recipientOf, toDecisionInput, urgencyOf } from './decision-input.js';

const SOURCE = 'steward/escalation';

export interface DecideDeps extends Batching {
  store: EngineStore;
  /** A decision with a fallback and no fallbackAt takes it after this long without an answer. */
  fallbackAfterMs: number;
}

/** What `decisions.resolution` holds: the engine's verdict, and the choice once there is one. */
export interface Resolution {
  verdict: Verdict;
  choice?: string;
  answeredBy?: string;
}

/**
 * decision.requested → the engine decides: rules, learned preferences, the score and the tenant's threshold policy.
 * Autonomous and preference decisions are resolved at once (some picked for a review by the person); the others are
 * escalated into the recipient's batch. A redelivered request finds its decision row and changes nothing.
 */
export async function decideDecisions(ctx: UnitOfWorkContext, deps: DecideDeps, events: Envelope<DecisionRequestedV1>[]): Promise<void> {
  const now = new Date();
  const created = await ctx.tx.decision.createManyAndReturn({
    data: events.map((e) => {
      const d = e.data;
      return {
        id: d.decisionId,
        tenantId: d.tenantId,
        taskId: d.taskId ?? null,
        runId: d.runId ?? null,
        stepRunId: d.stepRunId ?? null,
        type: d.type,
        options: json(d.options),
        ...(d.proposal !== undefined ? { proposal: json(d.proposal) } : {}),
        context: json(d.context),
        status: 'pending' as const,
        recipient: recipientOf(d.context),
        urgency: urgencyOf(d.context),
        fallback: d.fallback ?? null,
        fallbackAt: fallbackAtOf(d, now, deps.fallbackAfterMs),
        createdAt: now,
      };
    }),
    skipDuplicates: true,
    select: { id: true },
  });
  const fresh = new Set(created.map((c) => c.id));
  const byTenant = new Map<string, Envelope<DecisionRequestedV1>[]>();
  for (const e of events) {
    if (!fresh.delete(e.data.decisionId)) continue; // already decided (a redelivery, or twice in this batch)
    const list = byTenant.get(e.data.tenantId) ?? [];
    list.push(e);
    byTenant.set(e.data.tenantId, list);
  }
  for (const [tenantId, list] of byTenant) {
    await deps.store.with(ctx, tenantId, async (t) => {
      for (const e of list) {
        const d = e.data;
        const verdict = t.engine.decide(toDecisionInput(d, now));
        await apply(ctx, deps, t.policy, e, verdict, now);
      }
      deps.metrics?.engine(tenantId, t.engine.metrics());
    });
  }
}

async function apply(ctx: UnitOfWorkContext, deps: DecideDeps, settings: { batchSize: number; batchTimeoutMs: number }, e: Envelope<DecisionRequestedV1>, verdict: Verdict, now: Date): Promise<void> {
  const d = e.data;
  const meta = { source: SOURCE, tenantId: d.tenantId, correlationId: d.taskId ?? d.decisionId, subject: d.decisionId, causationId: e.id, time: now };
  const scored = { score: verdict.score, threshold: verdict.threshold, policyVersion: verdict.policyVersion, reasons: json(verdict.reasons) };
  const recipient = recipientOf(d.context);
  if (verdict.outcome !== 'escalate' && verdict.choice !== undefined) {
    const resolution: Resolution = { verdict, choice: verdict.choice };
    await ctx.tx.decision.update({
      where: { id: d.decisionId },
      data: { status: 'resolved', resolvedBy: verdict.outcome, resolution: json(resolution), resolvedAt: now, audit: verdict.audit, auditWeight: verdict.auditWeight ?? null, ...scored },
    });
    ctx.emit(makeEvent('decision.resolved.v1', { decisionId: d.decisionId, choice: verdict.choice, resolvedBy: verdict.outcome, score: asProbability(verdict.score), policyVersion: verdict.policyVersion, reasons: verdict.reasons }, meta));
    deps.metrics?.decided(d.tenantId, verdict.outcome);
    // A review for the person: it waits in the batch but holds nothing back.
    if (verdict.audit) await addToBatch(ctx, deps, settings, { decisionId: d.decisionId, tenantId: d.tenantId, recipient, escalation: false, critical: false, correlationId: meta.correlationId }, now);
    return;
  }
  const resolution: Resolution = { verdict };
  await ctx.tx.decision.update({ where: { id: d.decisionId }, data: { status: 'escalated', resolution: json(resolution), ...scored } });
  const batchId = await addToBatch(ctx, deps, settings, { decisionId: d.decisionId, tenantId: d.tenantId, recipient, escalation: true, critical: isCritical(d.context), correlationId: meta.correlationId }, now);
  ctx.emit(
    makeEvent(
      'decision.escalated.v1',
      { decisionId: d.decisionId, tenantId: d.tenantId, batchId, recipient, type: d.type, ...(d.proposal !== undefined ? { proposal: d.proposal } : {}), score: asProbability(verdict.score), threshold: verdict.threshold, policyVersion: verdict.policyVersion, reasons: verdict.reasons, basis: verdict.basis },
      meta,
    ),
  );
  deps.metrics?.escalated(d.tenantId, verdict.basis);
  const fallbackAt = fallbackAtOf(d, now, deps.fallbackAfterMs);
  if (fallbackAt) deps.wakeAt?.(fallbackAt);
}

/** When an unanswered escalation takes its declared fallback; never without one (nothing is approved silently). */
const fallbackAtOf = (d: DecisionRequestedV1, now: Date, afterMs: number): Date | null =>
  d.fallback === undefined ? null : d.fallbackAt ? new Date(d.fallbackAt) : new Date(now.getTime() + afterMs);
