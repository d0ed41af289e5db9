import type { Envelope, SkillInvocationCompletedV1, SkillInvocationFailedV1 } from '@steward/contracts';
import { acceptSkillResults, dispatchSkill, loadSkillOutputs, type SqlClient, type UnitOfWorkContext } from '@steward/state';
import { completeTasks, failTask, SOURCE } from './task-lifecycle.js';

export type SkillResultEvent = { key: 'skill.invocation.completed.v1'; envelope: Envelope<SkillInvocationCompletedV1> } | { key: 'skill.invocation.failed.v1'; envelope: Envelope<SkillInvocationFailedV1> };

/**
 * Single-skill tasks' invocations finished: complete the tasks, retry retryable failures, or fail the tasks.
 * Only results of each invocation's current attempt count (fencing).
 */
export async function finishSkillTasks(ctx: UnitOfWorkContext<SqlClient>, events: SkillResultEvent[], maxAttempts: number): Promise<void> {
  const accepted = await acceptSkillResults(
    ctx.tx,
    events.map((e) => (e.key === 'skill.invocation.completed.v1' ? { kind: 'completed' as const, ...e.envelope.data } : { kind: 'failed' as const, ...e.envelope.data })),
  );
  const completions: Parameters<typeof completeTasks>[1] = [];
  const refs = events.flatMap((e) => (e.key === 'skill.invocation.completed.v1' && e.envelope.data.outputRef && accepted.has(e.envelope.data.invocationId) ? [e.envelope.data.outputRef] : []));
  const stored = await loadSkillOutputs(ctx.tx, refs);
  for (const e of events) {
    const d = e.envelope.data;
    if (!accepted.delete(d.invocationId)) continue; // stale attempt or duplicate result
    if (e.key === 'skill.invocation.completed.v1') {
      const ref = e.envelope.data.outputRef;
      completions.push({ tenantId: e.envelope.tenantid, taskId: d.taskId, output: ref ? stored.get(ref.id) : e.envelope.data.output, ...(ref ? { outputRef: ref } : {}), causationId: e.envelope.id });
      continue;
    }
    const { error } = e.envelope.data;
    if (error.retryable && d.attempt < maxAttempts) {
      const [inv] = await ctx.tx.$queryRaw<{ id: string; tenantId: string; taskId: string; skill: string; input: Record<string, unknown> }[]>`
        SELECT id, tenant_id AS "tenantId", task_id AS "taskId", skill, input FROM skill_invocations WHERE id = ${d.invocationId}`;
      if (!inv) throw new Error(`skill invocation ${d.invocationId} was accepted but is not there`);
      const r = await dispatchSkill(ctx, { invocationId: inv.id, tenantId: inv.tenantId, taskId: inv.taskId, requester: 'orchestrator', skill: inv.skill, input: inv.input, attempt: d.attempt + 1, source: SOURCE, causationId: e.envelope.id });
      if (!r.ok) await failTask(ctx, e.envelope.tenantid, d.taskId, r.error, e.envelope.id);
      continue;
    }
    await failTask(ctx, e.envelope.tenantid, d.taskId, error, e.envelope.id);
  }
  await completeTasks(ctx, completions);
}
