import { makeEvent, type DecisionRequestedV1, type EscalationControlV1, type Envelope } from '@steward/contracts';
import type { Logger } from '@steward/bus';
import { json, type UnitOfWorkContext } from '@steward/state';
import { closeBatchIfDone } from '../batches/batches.js';
import type { Resolution } from '../decisions/decide.handler.js';
import { asProbability, toDecisionInput } from '../decisions/decision-input.js';
import { enginePreferenceId, type EngineStore } from '../engine/engine-store.js';
import type { EscalationMetrics } from '../metrics.js';

const SOURCE = 'steward/escalation';

export interface ControlDeps {
  store: EngineStore;
  metrics?: EscalationMetrics;
  log?: Logger;
}

interface DecisionRow {
  id: string;
  tenant_id: string;
  task_id: string | null;
  type: string;
  options: DecisionRequestedV1['options'];
  proposal: string | null;
  context: DecisionRequestedV1['context'];
  fallback: string | null;
  status: string;
  resolution: Resolution | null;
  audit: boolean;
  audit_weight: number | null;
  reviewed_at: Date | null;
  batch_id: string | null;
  created_at: Date;
}

/**
 * The person's side, from the gateway: answers to escalations (the decision resolves with their choice), answers to
 * reviews (they feed the error estimate and the learning, and change nothing), revocations of learned preferences.
 * An answer is idempotent by its request id, and a decision is answered once: the first answer wins.
 */
export async function handleControl(ctx: UnitOfWorkContext, deps: ControlDeps, events: Envelope<EscalationControlV1>[]): Promise<void> {
  for (const e of events) {
    const c = e.data;
    if (c.action.kind === 'revoke_preference') {
      const { preferenceId, by } = c.action;
      const id = enginePreferenceId(c.tenantId, preferenceId);
      await deps.store.with(ctx, c.tenantId, (t) => {
        const ok = id !== undefined && t.engine.revokePreference(id, Date.now());
        if (ok) deps.log?.info({ preferenceId, tenantId: c.tenantId, by }, 'preference revoked');
        else deps.log?.warn({ preferenceId, tenantId: c.tenantId }, 'no such preference to revoke');
      });
      continue;
    }
    await answer(ctx, deps, e, c.action);
  }
}

async function answer(ctx: UnitOfWorkContext, deps: ControlDeps, e: Envelope<EscalationControlV1>, a: Extract<EscalationControlV1['action'], { kind: 'answer' }>): Promise<void> {
  const { tx } = ctx;
  const tenantId = e.data.tenantId;
  const seen = await tx.escalationAnswer.findUnique({ where: { idempotencyKey: e.data.requestId }, select: { id: true } });
  if (seen) return;
  await deps.store.with(ctx, tenantId, async (t) => {
    const [d] = await tx.$queryRaw<DecisionRow[]>`
      SELECT id, tenant_id, task_id, type, options, proposal #>> '{}' AS proposal, context, fallback, status, resolution, audit, audit_weight, reviewed_at, batch_id, created_at
        FROM decisions WHERE id = ${a.decisionId} AND tenant_id = ${tenantId} FOR UPDATE`;
    if (!d || !d.batch_id || !d.resolution) {
      deps.log?.warn({ decisionId: a.decisionId, tenantId }, 'answer for a decision that is not waiting for a person; ignored');
      return;
    }
    if (!d.options.some((o) => o.id === a.choice)) {
      deps.log?.warn({ decisionId: a.decisionId, choice: a.choice }, 'answer is not one of the options; ignored');
      return;
    }
    const now = new Date();
    const review = d.status === 'resolved' && d.audit && d.reviewed_at === null;
    if (d.status !== 'escalated' && !review) return; // answered already, or resolved by its fallback
    await tx.escalationAnswer.create({ data: { id: e.data.requestId, decisionId: d.id, batchId: d.batch_id, answer: json({ choice: a.choice }), answeredBy: a.answeredBy, idempotencyKey: e.data.requestId, createdAt: now } });
    const input = toDecisionInput({ decisionId: d.id, tenantId, type: d.type, options: d.options, ...(d.proposal ? { proposal: d.proposal } : {}), context: d.context, ...(d.fallback ? { fallback: d.fallback } : {}) }, d.created_at);
    const verdict = d.resolution.verdict;
    const meta = { source: SOURCE, tenantId, correlationId: d.task_id ?? d.id, subject: d.id, causationId: e.id, time: now };
    if (review) {
      t.engine.learn(input, verdict, a.choice, 'audit');
      await tx.decision.update({ where: { id: d.id }, data: { reviewedAt: now } });
      const decided = d.resolution.choice ?? verdict.choice ?? a.choice;
      ctx.emit(makeEvent('decision.reviewed.v1', { decisionId: d.id, tenantId, choice: a.choice, decidedChoice: decided, agreed: decided === a.choice, weight: d.audit_weight ?? 1 }, meta));
    } else {
      t.engine.learn(input, verdict, a.choice, 'escalation');
      const resolution: Resolution = { verdict, choice: a.choice, answeredBy: a.answeredBy };
      const reasons = [`answered by ${a.answeredBy}`, ...verdict.reasons.map((r) => `escalated: ${r}`)];
      await tx.decision.update({ where: { id: d.id }, data: { status: 'resolved', resolvedBy: 'human', resolution: json(resolution), resolvedAt: now } });
      ctx.emit(makeEvent('decision.resolved.v1', { decisionId: d.id, choice: a.choice, resolvedBy: 'human', score: asProbability(verdict.score), policyVersion: verdict.policyVersion, reasons }, meta));
      deps.metrics?.decided(tenantId, 'human');
    }
    await closeBatchIfDone(ctx, d.batch_id, now);
    deps.metrics?.engine(tenantId, t.engine.metrics());
  });
}
