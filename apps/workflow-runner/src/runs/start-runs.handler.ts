import type { Envelope, WorkflowStartV1 } from '@steward/contracts';
import { deterministicId, makeEvent } from '@steward/contracts';
import type { SqlClient, UnitOfWorkContext } from '@steward/state';
import { resolveDefinition } from '../definitions/definition-cache.js';
import { RunBatch, SOURCE, type EngineConfig } from '../engine/run-batch.js';

/**
 * workflow.start → a run pinned to its definition version, a pending step run per step, the first steps started.
 * Set-wise: one transaction and a handful of statements for the whole batch. A redelivered start finds its run.
 */
export async function startRuns(ctx: UnitOfWorkContext<SqlClient>, config: EngineConfig, events: Envelope<WorkflowStartV1>[]): Promise<void> {
  const { tx } = ctx;
  const found = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM workflow_runs WHERE id = ANY(${events.map((e) => e.data.runId)}::text[])`;
  const existing = new Set(found.map((r) => r.id));
  const batch = new RunBatch(ctx, config, events[0]!.id);
  const resolved = new Map<string, Awaited<ReturnType<typeof resolveDefinition>>>();
  for (const event of events) {
    const d = event.data;
    if (existing.has(d.runId)) continue;
    existing.add(d.runId); // a repeat inside the batch too
    const key = `${d.tenantId}\u0000${d.workflow}\u0000${d.version}`;
    if (!resolved.has(key)) resolved.set(key, await resolveDefinition(tx, d.tenantId, d.workflow, d.version));
    const found = resolved.get(key);
    const problems = found ? found.def.checkInput(d.input) : [];
    if (!found || problems.length > 0) {
      // No run row without a definition to pin it to (or with input it refuses): the failure event alone tells the orchestrator.
      const error = found
        ? { code: 'invalid_input', message: `input of ${d.workflow}@${d.version}: ${problems.join('; ')}`, retryable: false }
        : { code: 'unknown_workflow', message: `workflow ${d.workflow}@${d.version} is not registered or not valid`, retryable: false };
      ctx.emit(makeEvent('workflow.run.failed.v1', { runId: d.runId, taskId: d.taskId, error }, { source: SOURCE, tenantId: d.tenantId, correlationId: d.taskId, subject: d.runId, causationId: event.id, id: deterministicId(d.runId, 'refused') }));
      continue;
    }
    batch.createRun({ id: d.runId, taskId: d.taskId, tenantId: d.tenantId, definitionId: found.id, def: found.def, input: d.input });
  }
  await batch.flush();
}
