// Escalation batches: a person is asked a few times a day, not at every decision. Escalations of a tenant and
// recipient gather in one open batch, sent when it holds batchSize escalations, when its oldest has waited
// batchTimeoutMs, or at once when a critical one arrives. Reviews (audits of autonomous decisions) ride along and
// never hold a batch back. All of it is rows: a restart with a half-filled batch loses nothing, the sweep sends it.
import { makeEvent } from '@steward/contracts';
import type { UnitOfWorkContext } from '@steward/state';
import { randomUUID } from 'node:crypto';
import type { EscalationMetrics } from '../metrics.js';

const SOURCE = 'steward/escalation';

export type BatchTrigger = 'size' | 'timeout' | 'critical';

export interface BatchSettings {
  batchSize: number;
  batchTimeoutMs: number;
}

export interface Batching {
  metrics?: EscalationMetrics;
  /** Told when an open batch becomes due, so the sweep wakes then. */
  wakeAt?: (at: Date) => void;
}

/**
 * Puts a decision in the open batch of its tenant and recipient (opening one if needed) and sends the batch when a
 * trigger fires. Returns the batch id. The caller holds the tenant's lock; the batch row is locked too, so the sweep
 * never sends a batch while a decision is being added to it.
 */
export async function addToBatch(
  ctx: UnitOfWorkContext,
  b: Batching,
  settings: BatchSettings,
  item: { decisionId: string; tenantId: string; recipient: string; escalation: boolean; critical: boolean; correlationId: string },
  now: Date,
): Promise<string> {
  const { tx } = ctx;
  const [open] = await tx.$queryRaw<{ id: string; item_count: number }[]>`
    SELECT id, item_count FROM escalation_batches WHERE tenant_id = ${item.tenantId} AND recipient = ${item.recipient} AND status = 'open' ORDER BY created_at LIMIT 1 FOR UPDATE`;
  let batchId: string;
  let count: number;
  if (open) {
    batchId = open.id;
    count = open.item_count + (item.escalation ? 1 : 0);
    if (item.escalation) await tx.escalationBatch.update({ where: { id: batchId }, data: { itemCount: count } });
  } else {
    batchId = randomUUID();
    count = item.escalation ? 1 : 0;
    const dueAt = new Date(now.getTime() + settings.batchTimeoutMs);
    await tx.escalationBatch.create({ data: { id: batchId, tenantId: item.tenantId, recipient: item.recipient, status: 'open', itemCount: count, dueAt, createdAt: now } });
    b.wakeAt?.(dueAt);
  }
  await tx.decision.update({ where: { id: item.decisionId }, data: { batchId } });
  const trigger: BatchTrigger | undefined = item.escalation && item.critical ? 'critical' : item.escalation && count >= settings.batchSize ? 'size' : undefined;
  if (trigger) await sendBatch(ctx, b, batchId, trigger, item.correlationId, now);
  return batchId;
}

/** Marks an open batch sent and tells the world (the inbox page, webhooks, the CLI listen for it). */
export async function sendBatch(ctx: UnitOfWorkContext, b: Batching, batchId: string, trigger: BatchTrigger, correlationId: string, now: Date): Promise<boolean> {
  const { tx } = ctx;
  const [sent] = await tx.$queryRaw<{ tenant_id: string; recipient: string; item_count: number; created_at: Date }[]>`
    UPDATE escalation_batches SET status = 'sent', sent_at = ${now}, trigger = ${trigger} WHERE id = ${batchId} AND status = 'open'
    RETURNING tenant_id, recipient, item_count, created_at`;
  if (!sent) return false;
  const decisions = await tx.decision.findMany({
    where: { batchId, OR: [{ status: 'escalated' }, { status: 'resolved', audit: true, reviewedAt: null }] },
    select: { id: true },
    orderBy: [{ urgency: 'desc' }, { createdAt: 'asc' }],
  });
  if (decisions.length === 0) {
    // Everything in it was withdrawn or resolved meanwhile: there is nothing to ask.
    await tx.escalationBatch.update({ where: { id: batchId }, data: { status: 'answered', closedAt: now } });
    return false;
  }
  ctx.emit(
    makeEvent(
      'escalation.batch.ready.v1',
      { batchId, tenantId: sent.tenant_id, recipient: sent.recipient, trigger, decisionIds: decisions.map((d) => d.id) },
      { source: SOURCE, tenantId: sent.tenant_id, correlationId, subject: batchId, time: now },
    ),
  );
  b.metrics?.batchSent(sent.tenant_id, trigger, sent.item_count, (now.getTime() - sent.created_at.getTime()) / 1000);
  return true;
}

/**
 * A sent batch is closed once nothing in it waits for the person: every escalation resolved and every review done. It
 * is `expired` when a fallback had to be taken, else `answered`.
 */
export async function closeBatchIfDone(ctx: UnitOfWorkContext, batchId: string, now: Date): Promise<void> {
  await ctx.tx.$executeRaw`
    UPDATE escalation_batches b SET status = CASE WHEN EXISTS (SELECT 1 FROM decisions d WHERE d.batch_id = b.id AND d.status = 'timed_out') THEN 'expired'::escalation_batch_status ELSE 'answered'::escalation_batch_status END,
           closed_at = ${now}
     WHERE b.id = ${batchId} AND b.status = 'sent'
       AND NOT EXISTS (SELECT 1 FROM decisions d WHERE d.batch_id = b.id AND (d.status = 'escalated' OR (d.audit AND d.reviewed_at IS NULL)))`;
}
