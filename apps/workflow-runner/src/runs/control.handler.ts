import type { Envelope, WorkflowControlV1 } from '@steward/contracts';
import type { SqlClient, UnitOfWorkContext } from '@steward/state';
import { RunBatch, type EngineConfig } from '../engine/run-batch.js';

/**
 * Operators' commands from the API: retry a parked step (a new attempt), skip it with an output, or cancel the
 * run (its running skills are told to stop, its child runs are cancelled). A command for another tenant's run,
 * or one the run's state no longer allows, changes nothing.
 */
export async function handleControl(ctx: UnitOfWorkContext<SqlClient>, config: EngineConfig, events: Envelope<WorkflowControlV1>[]): Promise<void> {
  for (const event of events) {
    const d = event.data;
    const batch = new RunBatch(ctx, config, event.id);
    const [run] = await batch.load([d.runId]);
    if (!run || run.row.tenantId !== d.tenantId) continue;
    const a = d.action;
    if (a.kind === 'cancel') {
      await batch.cancelRun(run, a.reason);
    } else {
      const row = run.steps.get(a.stepPath);
      if (row) await batch.resume(run, row, a.kind === 'retry' ? { kind: 'retry' } : { kind: 'skip', output: a.output });
    }
    await batch.flush();
  }
}
