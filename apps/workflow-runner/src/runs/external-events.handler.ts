import type { Envelope, ExternalEventV1 } from '@steward/contracts';
import type { SqlClient, UnitOfWorkContext } from '@steward/state';
import { eventWaitKey, lockEventName, RunBatch, type EngineConfig } from '../engine/run-batch.js';

/**
 * A named event arrived: kept for later waits' look-back, and handed to every step already waiting for it (the
 * same name, and the same key when the step asked for one). Serialised with waits on the same name by an advisory
 * lock, so an event is either seen by a wait's look-back or finds the waiting step — never neither.
 */
export async function handleExternalEvents(ctx: UnitOfWorkContext<SqlClient>, config: EngineConfig, events: Envelope<ExternalEventV1>[]): Promise<void> {
  const { tx } = ctx;
  for (const event of events) {
    const d = event.data;
    await lockEventName(ctx, d.tenantId, d.name);
    const inserted = await tx.$executeRaw`
      INSERT INTO external_events (id, tenant_id, name, key, data) VALUES (${d.eventId}, ${d.tenantId}, ${d.name}, ${d.key ?? null}, ${JSON.stringify(d.data ?? null)}::jsonb)
      ON CONFLICT (id) DO NOTHING`;
    if (inserted === 0) continue;
    const keys = d.key === undefined ? [eventWaitKey(d.name, undefined)] : [eventWaitKey(d.name, undefined), eventWaitKey(d.name, d.key)];
    const waiting = await tx.$queryRaw<{ id: string; run_id: string }[]>`
      SELECT s.id, s.run_id FROM step_runs AS s JOIN workflow_runs AS r ON r.id = s.run_id
       WHERE s.wait_for = 'event' AND s.wait_key = ANY(${keys}::text[]) AND s.status = 'waiting' AND r.tenant_id = ${d.tenantId}`;
    if (waiting.length === 0) continue;
    const batch = new RunBatch(ctx, config, event.id);
    await batch.load(waiting.map((w) => w.run_id));
    const receivedAt = batch.now.toISOString();
    for (const w of waiting) {
      const found = batch.findStep(w.id);
      if (found && found.row.status === 'waiting' && found.row.waitFor === 'event') {
        await batch.completeStep(found.run, found.row, { event: d.name, key: d.key ?? null, data: d.data ?? null, eventId: d.eventId, receivedAt });
      }
    }
    await batch.flush();
  }
}
