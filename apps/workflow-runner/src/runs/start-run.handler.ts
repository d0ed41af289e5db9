import type { Envelope, WorkflowStartV1 } from '@steward/contracts';
import { dispatchNewSkills, json, type DispatchSkillParams, type Prisma, type UnitOfWorkContext } from '@steward/state';
import { randomUUID } from 'node:crypto';
import { parseDefinitionRow } from '../definitions/definition-cache.js';
import { emitRunEvent, failRun, SOURCE } from './run-events.js';

/**
 * workflow.start → runs pinned to their definition version, one step run per step, each first step scheduled.
 * Set-wise: one look-up of existing runs and of definitions, one insert each for runs, step runs and invocations.
 */
export async function startRuns(ctx: UnitOfWorkContext, events: Envelope<WorkflowStartV1>[]): Promise<void> {
  const { tx } = ctx;
  const existing = new Set((await tx.workflowRun.findMany({ where: { id: { in: events.map((e) => e.data.runId) } }, select: { id: true } })).map((r) => r.id));
  const fresh = events.filter((e) => !existing.has(e.data.runId) && existing.add(e.data.runId)); // also drops repeats in the batch
  if (fresh.length === 0) return;
  const rows = await tx.workflowDefinition.findMany({
    where: { OR: fresh.map((e) => ({ name: e.data.workflow, version: e.data.version, tenantId: { in: [e.data.tenantId, 'system'] } })) },
    select: { id: true, tenantId: true, name: true, version: true, definition: true, firstUsedAt: true },
  });
  // A tenant's own definition wins over the shared (system) one of the same name and version.
  const resolve = (d: WorkflowStartV1) => {
    const same = rows.filter((r) => r.name === d.workflow && r.version === d.version);
    return same.find((r) => r.tenantId === d.tenantId) ?? same.find((r) => r.tenantId === 'system');
  };

  const now = new Date();
  const runRows: Prisma.WorkflowRunCreateManyInput[] = [];
  const stepRows: Prisma.StepRunCreateManyInput[] = [];
  const dispatches: (DispatchSkillParams & { stepPath: string; runId: string })[] = [];
  const firstUse = new Set<string>();
  for (const event of fresh) {
    const d = event.data;
    const run = { id: d.runId, tenantId: d.tenantId, taskId: d.taskId };
    const row = resolve(d);
    const def = row ? parseDefinitionRow(row) : null;
    if (!row || !def) {
      // No run row without a definition to pin it to: the failure event alone tells the orchestrator.
      const error = { code: 'unknown_workflow', message: `workflow ${d.workflow}@${d.version} is not registered or not valid`, retryable: false };
      emitRunEvent(ctx, 'workflow.run.failed.v1', { runId: d.runId, taskId: d.taskId, error }, run, event.id);
      continue;
    }
    if (!row.firstUsedAt) firstUse.add(row.id);
    runRows.push({ id: d.runId, taskId: d.taskId, tenantId: d.tenantId, definitionId: row.id, workflowName: d.workflow, workflowVersion: d.version, status: 'running', input: json(d.input), startedAt: now });
    def.steps.forEach((s, i) => {
      const id = randomUUID();
      if (i > 0) {
        stepRows.push({ id, runId: d.runId, stepPath: s.id, status: 'pending' });
        return;
      }
      stepRows.push({ id, runId: d.runId, stepPath: s.id, status: 'scheduled', attempt: 1, input: json(d.input), scheduledAt: now });
      dispatches.push({ invocationId: id, tenantId: d.tenantId, taskId: d.taskId, stepRunId: id, requester: 'workflow-runner', skill: s.skill, input: d.input, attempt: 1, ...(s.timeout_ms ? { timeoutMs: s.timeout_ms } : {}), source: SOURCE, causationId: event.id, stepPath: s.id, runId: d.runId });
    });
    emitRunEvent(ctx, 'workflow.run.started.v1', { runId: d.runId, taskId: d.taskId, workflow: d.workflow, version: d.version }, run, event.id);
  }
  if (runRows.length === 0) return;
  await tx.workflowRun.createMany({ data: runRows });
  await tx.stepRun.createMany({ data: stepRows });
  if (firstUse.size > 0) await tx.workflowDefinition.updateMany({ where: { id: { in: [...firstUse] }, firstUsedAt: null }, data: { firstUsedAt: now } });
  const failures = new Map((await dispatchNewSkills(ctx, dispatches)).map((f) => [f.params.invocationId, f.error]));
  for (const p of dispatches) {
    const run = { id: p.runId, tenantId: p.tenantId, taskId: p.taskId };
    const error = failures.get(p.invocationId);
    if (error) await failRun(ctx, run, error, p.causationId!);
    else emitRunEvent(ctx, 'step.run.scheduled.v1', { runId: run.id, stepRunId: p.invocationId, stepPath: p.stepPath, attempt: 1 }, run, p.causationId!);
  }
}

/** Single-event form of startRuns. */
export async function startRun(ctx: UnitOfWorkContext, event: Envelope<WorkflowStartV1>): Promise<void> {
  await startRuns(ctx, [event]);
}
