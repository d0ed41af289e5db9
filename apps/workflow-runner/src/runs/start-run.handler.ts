import { WorkflowDefinition, type Envelope, type WorkflowStartV1 } from '@steward/contracts';
import { json, type UnitOfWorkContext } from '@steward/state';
import { randomUUID } from 'node:crypto';
import { emitRunEvent, failRun, scheduleStep } from './run-events.js';

/** workflow.start → a run pinned to its definition version, one step run per step, the first step scheduled. */
export async function startRun(ctx: UnitOfWorkContext, event: Envelope<WorkflowStartV1>): Promise<void> {
  const { tx } = ctx;
  const d = event.data;
  if (await tx.workflowRun.findUnique({ where: { id: d.runId }, select: { id: true } })) return;
  // A tenant's own definition wins over the shared (system) one of the same name and version.
  const rows = await tx.workflowDefinition.findMany({ where: { name: d.workflow, version: d.version, tenantId: { in: [d.tenantId, 'system'] } } });
  const row = rows.find((r) => r.tenantId === d.tenantId) ?? rows[0];
  const run = { id: d.runId, tenantId: d.tenantId, taskId: d.taskId };
  const parsed = row ? WorkflowDefinition.safeParse(row.definition) : undefined;
  if (!row || !parsed?.success) {
    // No run row without a definition to pin it to: the failure event alone tells the orchestrator.
    const error = { code: 'unknown_workflow', message: `workflow ${d.workflow}@${d.version} is not registered or not valid`, retryable: false };
    emitRunEvent(ctx, 'workflow.run.failed.v1', { runId: d.runId, taskId: d.taskId, error }, run, event.id);
    return;
  }
  const now = new Date();
  await tx.workflowRun.create({
    data: { id: d.runId, taskId: d.taskId, tenantId: d.tenantId, definitionId: row.id, workflowName: d.workflow, workflowVersion: d.version, status: 'running', input: json(d.input), startedAt: now },
  });
  if (!row.firstUsedAt) await tx.workflowDefinition.update({ where: { id: row.id }, data: { firstUsedAt: now } });
  const steps = parsed.data.steps.map((s) => ({ stepRunId: randomUUID(), stepPath: s.id, skill: s.skill, ...(s.timeout_ms ? { timeoutMs: s.timeout_ms } : {}) }));
  await tx.stepRun.createMany({ data: steps.map((s) => ({ id: s.stepRunId, runId: d.runId, stepPath: s.stepPath, status: 'pending' as const })) });
  emitRunEvent(ctx, 'workflow.run.started.v1', { runId: d.runId, taskId: d.taskId, workflow: d.workflow, version: d.version }, run, event.id);
  const error = await scheduleStep(ctx, run, steps[0]!, d.input, 1, event.id);
  if (error) await failRun(ctx, run, error, event.id);
}
