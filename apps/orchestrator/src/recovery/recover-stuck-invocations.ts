import { dispatchSkill, type SqlClient, type UnitOfWorkContext } from '@steward/state';
import { failTask, SOURCE } from '../tasks/task-lifecycle.js';

export interface RecoveryOptions {
  /** Past the skill's own timeout: longer than the bus rides out failures (~12 min) before dead-lettering. */
  stuckAfterMs: number;
  maxAttempts: number;
  limit?: number;
}

/**
 * Single-skill tasks whose invocation is still pending long after its dispatch (its command or its result was
 * dead-lettered, or lost with a purged stream) are not left running forever: the invocation is dispatched again as
 * the next attempt (fencing makes any late result of the old one harmless), or the task fails when attempts are
 * spent. Rows are claimed with SKIP LOCKED, so every orchestrator replica may run it. Returns how many it handled.
 */
export async function recoverStuckInvocations(ctx: UnitOfWorkContext<SqlClient>, opts: RecoveryOptions): Promise<number> {
  const stuck = await ctx.tx.$queryRaw<{ id: string; task_id: string; tenant_id: string; skill: string; attempt: number; input: Record<string, unknown> }[]>`
    SELECT si.id, si.task_id, si.tenant_id, si.skill, si.attempt, si.input
      FROM skill_invocations AS si
      JOIN tasks AS t ON t.id = si.task_id AND t.status = 'running'
      LEFT JOIN skills AS s ON s.name = si.skill
     WHERE si.requester = 'orchestrator' AND si.status = 'pending'
       AND si.dispatched_at < now() - make_interval(secs => (${opts.stuckAfterMs}::int + coalesce(s.timeout_ms, 0)) / 1000.0)
     ORDER BY si.dispatched_at
     LIMIT ${opts.limit ?? 100}
       FOR UPDATE OF si SKIP LOCKED`;
  for (const inv of stuck) {
    const causationId = `recovery:${inv.id}:${inv.attempt}`;
    if (inv.attempt < opts.maxAttempts) {
      const r = await dispatchSkill(ctx, { invocationId: inv.id, tenantId: inv.tenant_id, taskId: inv.task_id, requester: 'orchestrator', skill: inv.skill, input: inv.input, attempt: inv.attempt + 1, source: SOURCE, causationId });
      if (r.ok) continue;
      await failTask(ctx, inv.tenant_id, inv.task_id, r.error, causationId);
    } else {
      await failTask(ctx, inv.tenant_id, inv.task_id, { code: 'stuck', message: `skill ${inv.skill} gave no result for attempt ${inv.attempt} of ${opts.maxAttempts}`, retryable: false }, causationId);
    }
    await ctx.tx.$executeRaw`UPDATE skill_invocations SET status = 'timed_out', completed_at = now() WHERE id = ${inv.id}`;
  }
  return stuck.length;
}
