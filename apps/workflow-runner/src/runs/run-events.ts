import { makeEvent, type ErrorInfo, type EventData, type EventKey } from '@steward/contracts';
import { Prisma, dispatchSkill, json, type UnitOfWorkContext, type WorkflowRun } from '@steward/state';

export const SOURCE = 'steward/workflow-runner';

export function runMeta(run: Pick<WorkflowRun, 'id' | 'tenantId' | 'taskId'>, causationId: string) {
  return { source: SOURCE, tenantId: run.tenantId, correlationId: run.taskId, subject: run.id, causationId };
}

export function emitRunEvent<K extends EventKey>(ctx: UnitOfWorkContext, key: K, data: EventData<K>, run: Pick<WorkflowRun, 'id' | 'tenantId' | 'taskId'>, causationId: string): void {
  ctx.emit(makeEvent(key, data, runMeta(run, causationId)));
}

/** Schedules attempt `attempt` of a step run; the step run id is the invocation id and so the idempotency key. */
export async function scheduleStep(
  ctx: UnitOfWorkContext,
  run: Pick<WorkflowRun, 'id' | 'tenantId' | 'taskId'>,
  step: { stepRunId: string; stepPath: string; skill: string; timeoutMs?: number },
  input: Record<string, unknown>,
  attempt: number,
  causationId: string,
): Promise<ErrorInfo | undefined> {
  await ctx.tx.stepRun.update({ where: { id: step.stepRunId }, data: { status: 'scheduled', attempt, input: json(input), scheduledAt: new Date(), error: Prisma.DbNull } });
  const r = await dispatchSkill(ctx, {
    invocationId: step.stepRunId,
    tenantId: run.tenantId,
    taskId: run.taskId,
    stepRunId: step.stepRunId,
    requester: 'workflow-runner',
    skill: step.skill,
    input,
    attempt,
    ...(step.timeoutMs ? { timeoutMs: step.timeoutMs } : {}),
    source: SOURCE,
    causationId,
  });
  if (!r.ok) return r.error;
  emitRunEvent(ctx, 'step.run.scheduled.v1', { runId: run.id, stepRunId: step.stepRunId, stepPath: step.stepPath, attempt }, run, causationId);
  return undefined;
}

/** A step's output becomes the next step's input: objects as they are, anything else as `{ value }`. */
export function asInput(output: unknown): Record<string, unknown> {
  return output !== null && typeof output === 'object' && !Array.isArray(output) ? (output as Record<string, unknown>) : { value: output };
}

export async function failRun(ctx: UnitOfWorkContext, run: Pick<WorkflowRun, 'id' | 'tenantId' | 'taskId'>, error: ErrorInfo, causationId: string): Promise<void> {
  const { count } = await ctx.tx.workflowRun.updateMany({ where: { id: run.id, status: { in: ['pending', 'running'] } }, data: { status: 'failed', error: json(error), completedAt: new Date() } });
  if (count === 1) emitRunEvent(ctx, 'workflow.run.failed.v1', { runId: run.id, taskId: run.taskId, error }, run, causationId);
}
