import { deterministicId, makeEvent, type Envelope, type OutgoingEvent, type TaskCancelV1, type WorkflowRunStartedV1 } from '@steward/contracts';
import { cancelSkillInvocations, type SqlClient, type UnitOfWorkContext } from '@steward/state';
import { cancelTask, SOURCE } from './task-lifecycle.js';

const ENDED_RUN = new Set(['completed', 'failed', 'cancelled']);

/**
 * task.cancel (from the gateway) → the task is cancelled, whichever its kind:
 *
 * - a single-skill task is cancelled at once, and its open invocation is marked cancelled (a late result of it is
 *   refused by fencing) and its worker told to stop (skill.invocation.cancel);
 * - a workflow task whose root run exists is cancelled the way an operator cancels a run: workflow.control cancel to
 *   the workflow-runner, whose workflow.run.cancelled then cancels the task (the task follows its run, as always);
 * - a workflow task without a run yet (pending, or workflow.start still on its way) is cancelled at once; when its run
 *   appears, `cancelRunOfCancelledTask` cancels it.
 *
 * A task already ended, another tenant's, or unknown changes nothing; so does a repeated command. A workflow task
 * whose root run has just ended is left to that run's result, which is on its way.
 */
export async function cancelTasks(ctx: UnitOfWorkContext<SqlClient>, events: Envelope<TaskCancelV1>[]): Promise<void> {
  for (const e of events) await cancelOne(ctx, e);
}

async function cancelOne(ctx: UnitOfWorkContext<SqlClient>, e: Envelope<TaskCancelV1>): Promise<void> {
  const { tx } = ctx;
  const d = e.data;
  const [task] = await tx.$queryRaw<{ kind: string; status: string }[]>`SELECT kind::text AS kind, status::text AS status FROM tasks WHERE id = ${d.taskId} AND tenant_id = ${d.tenantId}`;
  if (!task || (task.status !== 'pending' && task.status !== 'running')) return;

  if (task.kind === 'skill') {
    // Invocation rows first, then the task: the order a skill result takes them in, so the two cannot deadlock.
    await tx.$queryRaw`SELECT id FROM skill_invocations WHERE task_id = ${d.taskId} AND status IN ('pending', 'running') FOR UPDATE`;
    if (!(await cancelTask(ctx, d.tenantId, d.taskId, d.reason, e.id))) return;
    // Read again after the task's row lock: an invocation that the task's start inserted meanwhile is seen now.
    const open = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM skill_invocations WHERE task_id = ${d.taskId} AND status IN ('pending', 'running')`;
    await cancelSkillInvocations(ctx, open.map((i) => ({ invocationId: i.id, tenantId: d.tenantId, taskId: d.taskId, reason: d.reason, source: SOURCE, causationId: e.id })));
    return;
  }

  // The task's row lock orders this against the start of its root run (see cancelRunOfCancelledTask): either the run
  // is seen here, or its workflow.run.started finds the task cancelled.
  const [locked] = await tx.$queryRaw<{ status: string }[]>`SELECT status::text AS status FROM tasks WHERE id = ${d.taskId} FOR UPDATE`;
  if (!locked || (locked.status !== 'pending' && locked.status !== 'running')) return;
  const [root] = await tx.$queryRaw<{ id: string; status: string }[]>`
    SELECT id, status::text AS status FROM workflow_runs WHERE task_id = ${d.taskId} AND parent_run_id IS NULL LIMIT 1`;
  if (!root) {
    await cancelTask(ctx, d.tenantId, d.taskId, d.reason, e.id);
    return;
  }
  if (ENDED_RUN.has(root.status)) return;
  ctx.emit(cancelRunCommand(d.tenantId, d.taskId, root.id, d.reason, e.id));
}

/**
 * workflow.run.started of a root run: if its task was cancelled before the run existed, the run is cancelled now.
 * Locks the task's row (see cancelOne), so it waits for a cancellation in progress.
 */
export async function cancelRunOfCancelledTask(ctx: UnitOfWorkContext<SqlClient>, e: Envelope<WorkflowRunStartedV1>): Promise<void> {
  const d = e.data;
  if (d.parentRunId) return;
  const [task] = await ctx.tx.$queryRaw<{ status: string; reason: string | null }[]>`
    SELECT status::text AS status, error->>'message' AS reason FROM tasks WHERE id = ${d.taskId} FOR UPDATE`;
  if (task?.status !== 'cancelled') return;
  ctx.emit(cancelRunCommand(e.tenantid, d.taskId, d.runId, task.reason ?? 'task cancelled', e.id));
}

/**
 * The workflow.control cancel for a task's root run. Its id derives from the event that asked for it: the outbox keeps
 * each id once, and a second request (a repeated cancel while the run still runs) is a second, harmless command.
 */
function cancelRunCommand(tenantId: string, taskId: string, runId: string, reason: string, causationId: string): OutgoingEvent {
  const requestId = deterministicId(causationId, 'cancel-run', runId);
  return makeEvent(
    'workflow.control.v1',
    { requestId, tenantId, runId, action: { kind: 'cancel', reason } },
    { source: SOURCE, tenantId, correlationId: taskId, subject: runId, causationId, id: requestId },
  );
}
