import type { DecisionWithdrawnV1, Envelope } from '@steward/contracts';
import type { UnitOfWorkContext } from '@steward/state';
import { closeBatchIfDone } from '../batches/batches.js';

/**
 * decision.withdrawn → the step no longer waits: an escalation still open leaves the person's inbox (an answer to it
 * would change nothing for the run). A withdrawal that overtakes its request leaves a withdrawn row, so the late
 * request finds it and is not escalated.
 */
export async function withdrawDecisions(ctx: UnitOfWorkContext, events: Envelope<DecisionWithdrawnV1>[]): Promise<void> {
  const { tx } = ctx;
  const now = new Date();
  for (const e of events) {
    const d = e.data;
    const [row] = await tx.$queryRaw<{ batch_id: string | null }[]>`
      INSERT INTO decisions (id, tenant_id, type, options, context, status, reasons, resolved_at, created_at)
      VALUES (${d.decisionId}, ${d.tenantId}, ${d.type}, ${JSON.stringify(d.options)}::jsonb, '{}'::jsonb, 'withdrawn', ${JSON.stringify([`withdrawn: ${d.reason}`])}::jsonb, ${now}, ${now})
      ON CONFLICT (id) DO UPDATE SET status = 'withdrawn', resolved_at = EXCLUDED.resolved_at,
             reasons = EXCLUDED.reasons || COALESCE(decisions.reasons, '[]'::jsonb)
       WHERE decisions.status IN ('pending', 'escalated') AND decisions.tenant_id = EXCLUDED.tenant_id
      RETURNING batch_id`;
    if (row?.batch_id) await closeBatchIfDone(ctx, row.batch_id, now);
  }
}
