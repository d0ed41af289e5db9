// Time-driven changes of the escalation service, run by every replica (rows are claimed with SKIP LOCKED): open
// batches whose oldest escalation waited batchTimeoutMs are sent; escalations unanswered at their fallbackAt take the
// declared fallback, and the resolution says so. An escalation without a fallback waits for its person.
import { makeEvent } from '@steward/contracts';
import { json, type UnitOfWork } from '@steward/state';
import type { Resolution } from '../decisions/decide.handler.js';
import { asProbability } from '../decisions/decision-input.js';
import { closeBatchIfDone, sendBatch, type Batching } from './batches.js';

const SOURCE = 'steward/escalation';

export async function sweepEscalations(uow: UnitOfWork, b: Batching, limit = 200): Promise<number> {
  return uow.transaction(async (ctx) => {
    const { tx } = ctx;
    const now = new Date();
    const batches = await tx.$queryRaw<{ id: string; tenant_id: string }[]>`
      SELECT id, tenant_id FROM escalation_batches WHERE status = 'open' AND due_at <= ${now} ORDER BY due_at LIMIT ${limit} FOR UPDATE SKIP LOCKED`;
    for (const batch of batches) await sendBatch(ctx, b, batch.id, 'timeout', batch.id, now);
    const due = await tx.$queryRaw<{ id: string; tenant_id: string; task_id: string | null; fallback: string; resolution: Resolution; batch_id: string | null; fallback_at: Date }[]>`
      SELECT id, tenant_id, task_id, fallback, resolution, batch_id, fallback_at FROM decisions
       WHERE status = 'escalated' AND fallback_at <= ${now} AND fallback IS NOT NULL ORDER BY fallback_at LIMIT ${limit} FOR UPDATE SKIP LOCKED`;
    for (const d of due) {
      const reasons = [`nobody answered by ${d.fallback_at.toISOString()}: took the declared fallback "${d.fallback}"`, ...d.resolution.verdict.reasons.map((r) => `escalated: ${r}`)];
      const resolution: Resolution = { verdict: d.resolution.verdict, choice: d.fallback };
      await tx.decision.update({ where: { id: d.id }, data: { status: 'timed_out', resolvedBy: 'timeout', resolution: json(resolution), resolvedAt: now } });
      ctx.emit(
        makeEvent(
          'decision.resolved.v1',
          { decisionId: d.id, choice: d.fallback, resolvedBy: 'timeout', score: asProbability(d.resolution.verdict.score), policyVersion: d.resolution.verdict.policyVersion, reasons },
          { source: SOURCE, tenantId: d.tenant_id, correlationId: d.task_id ?? d.id, subject: d.id, time: now },
        ),
      );
      b.metrics?.decided(d.tenant_id, 'timeout');
      if (d.batch_id) await closeBatchIfDone(ctx, d.batch_id, now);
    }
    return batches.length + due.length;
  });
}
