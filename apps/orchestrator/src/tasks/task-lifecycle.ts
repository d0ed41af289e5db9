import { makeEvent, type ErrorInfo, type OutputRef } from '@steward/contracts';
import type { SqlClient, UnitOfWorkContext } from '@steward/state';
import { noteFinished, type TaskKind } from './task-outcomes.js';

export const SOURCE = 'steward/orchestrator';

export interface Completion {
  tenantId: string;
  taskId: string;
  output: unknown;
  /** The output came by reference (too large for the bus): task.completed carries the reference, not the output. */
  outputRef?: OutputRef;
  causationId: string;
}

/** running → completed, once per task, set-wise; emits task.completed for each task that changed. */
export async function completeTasks(ctx: UnitOfWorkContext<SqlClient>, items: Completion[]): Promise<void> {
  if (items.length === 0) return;
  const { tx, emit } = ctx;
  const now = new Date();
  const rows = await tx.$queryRaw<{ id: string; kind: TaskKind }[]>`
    UPDATE tasks AS t SET status = 'completed', output = v.output::jsonb, completed_at = ${now}, updated_at = ${now}
      FROM unnest(${items.map((i) => i.taskId)}::text[], ${items.map((i) => JSON.stringify(i.output ?? null))}::text[]) AS v(id, output)
     WHERE t.id = v.id AND t.status = 'running'
    RETURNING t.id, t.kind::text AS kind`;
  const done = new Map(rows.map((r) => [r.id, r.kind]));
  for (const i of items) {
    const kind = done.get(i.taskId);
    if (kind === undefined) continue;
    done.delete(i.taskId);
    noteFinished(ctx, kind, 'completed');
    const output = i.outputRef ? { output: null, outputRef: i.outputRef } : { output: i.output };
    emit(makeEvent('task.completed.v1', { taskId: i.taskId, ...output, completedAt: now.toISOString() }, { source: SOURCE, tenantId: i.tenantId, correlationId: i.taskId, subject: i.taskId, causationId: i.causationId }));
  }
}

/** running → completed for one task. */
export async function completeTask(ctx: UnitOfWorkContext<SqlClient>, tenantId: string, taskId: string, output: unknown, causationId: string): Promise<void> {
  await completeTasks(ctx, [{ tenantId, taskId, output, causationId }]);
}

/** pending|running → failed, once; emits task.failed. */
export async function failTask(ctx: UnitOfWorkContext<SqlClient>, tenantId: string, taskId: string, error: ErrorInfo, causationId: string): Promise<void> {
  const now = new Date();
  const [row] = await ctx.tx.$queryRaw<{ kind: TaskKind }[]>`
    UPDATE tasks SET status = 'failed', error = ${JSON.stringify(error)}::jsonb, completed_at = ${now}, updated_at = ${now}
     WHERE id = ${taskId} AND status IN ('pending', 'running') RETURNING kind::text AS kind`;
  if (row === undefined) return;
  noteFinished(ctx, row.kind, 'failed');
  ctx.emit(makeEvent('task.failed.v1', { taskId, error, failedAt: now.toISOString() }, { source: SOURCE, tenantId, correlationId: taskId, subject: taskId, causationId }));
}

/** pending|running → cancelled, once; emits task.cancelled. True if this call cancelled it. */
export async function cancelTask(ctx: UnitOfWorkContext<SqlClient>, tenantId: string, taskId: string, reason: string, causationId: string): Promise<boolean> {
  const now = new Date();
  const [row] = await ctx.tx.$queryRaw<{ kind: TaskKind }[]>`
    UPDATE tasks SET status = 'cancelled', error = ${JSON.stringify({ code: 'cancelled', message: reason, retryable: false })}::jsonb, completed_at = ${now}, updated_at = ${now}
     WHERE id = ${taskId} AND status IN ('pending', 'running') RETURNING kind::text AS kind`;
  if (row === undefined) return false;
  noteFinished(ctx, row.kind, 'cancelled');
  ctx.emit(makeEvent('task.cancelled.v1', { taskId, reason, cancelledAt: now.toISOString() }, { source: SOURCE, tenantId, correlationId: taskId, subject: taskId, causationId }));
  return true;
}
