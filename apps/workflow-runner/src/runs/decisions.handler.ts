import type { DecisionResolvedV1, Envelope } from '@steward/contracts';
import type { SqlClient, UnitOfWorkContext } from '@steward/state';
import { RunBatch, type EngineConfig } from '../engine/run-batch.js';

/** A decision a step asked for was resolved (by the agent, a preference, a person or a timeout): the step completes with it. */
export async function handleDecisionsResolved(ctx: UnitOfWorkContext<SqlClient>, config: EngineConfig, events: Envelope<DecisionResolvedV1>[]): Promise<void> {
  const waiting = await ctx.tx.$queryRaw<{ id: string; runId: string; waitKey: string }[]>`
    SELECT id, run_id AS "runId", wait_key AS "waitKey" FROM step_runs
     WHERE wait_for = 'decision' AND wait_key = ANY(${events.map((e) => e.data.decisionId)}::text[]) AND status = 'waiting'`;
  if (waiting.length === 0) return;
  const batch = new RunBatch(ctx, config, events[0]!.id);
  await batch.load(waiting.map((w) => w.runId));
  for (const event of events) {
    const d = event.data;
    const w = waiting.find((x) => x.waitKey === d.decisionId);
    const found = w && batch.findStep(w.id);
    if (!found || found.row.status !== 'waiting' || found.row.waitKey !== d.decisionId) continue;
    await batch.completeStep(found.run, found.row, { decisionId: d.decisionId, choice: d.choice, resolvedBy: d.resolvedBy, reasons: d.reasons, ...(d.score !== undefined ? { score: d.score } : {}) });
  }
  await batch.flush();
}
