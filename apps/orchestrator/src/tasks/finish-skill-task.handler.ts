import type { Envelope, SkillInvocationCompletedV1, SkillInvocationFailedV1 } from '@steward/contracts';
import { acceptSkillResult, dispatchSkill, type UnitOfWorkContext } from '@steward/state';
import { completeTask, failTask, SOURCE } from './task-lifecycle.js';

/** A single-skill task's invocation finished: complete the task, retry a retryable failure, or fail the task. */
export async function finishSkillTask(
  ctx: UnitOfWorkContext,
  event: Envelope<SkillInvocationCompletedV1> | Envelope<SkillInvocationFailedV1>,
  kind: 'completed' | 'failed',
  maxAttempts: number,
): Promise<void> {
  const d = event.data;
  const accepted = await acceptSkillResult(ctx.tx, kind === 'completed' ? { kind, ...(d as SkillInvocationCompletedV1) } : { kind, ...(d as SkillInvocationFailedV1) });
  if (!accepted) return; // stale attempt or duplicate result (fencing)
  if (kind === 'completed') return completeTask(ctx, event.tenantid, d.taskId, (d as SkillInvocationCompletedV1).output, event.id);
  const { error } = d as SkillInvocationFailedV1;
  if (error.retryable && d.attempt < maxAttempts) {
    const inv = await ctx.tx.skillInvocation.findUniqueOrThrow({ where: { id: d.invocationId } });
    const r = await dispatchSkill(ctx, { invocationId: inv.id, tenantId: inv.tenantId, taskId: inv.taskId, requester: 'orchestrator', skill: inv.skill, input: inv.input as Record<string, unknown>, attempt: d.attempt + 1, source: SOURCE, causationId: event.id });
    if (r.ok) return;
    return failTask(ctx, event.tenantid, d.taskId, r.error, event.id);
  }
  return failTask(ctx, event.tenantid, d.taskId, error, event.id);
}
