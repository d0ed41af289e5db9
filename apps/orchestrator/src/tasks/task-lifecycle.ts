import { makeEvent, type ErrorInfo } from '@steward/contracts';
import { json, type UnitOfWorkContext } from '@steward/state';

export const SOURCE = 'steward/orchestrator';

/** running → completed, once; emits task.completed. */
export async function completeTask({ tx, emit }: UnitOfWorkContext, tenantId: string, taskId: string, output: unknown, causationId: string): Promise<void> {
  const now = new Date();
  const { count } = await tx.task.updateMany({ where: { id: taskId, status: 'running' }, data: { status: 'completed', output: json(output), completedAt: now } });
  if (count === 1) emit(makeEvent('task.completed.v1', { taskId, output, completedAt: now.toISOString() }, { source: SOURCE, tenantId, correlationId: taskId, subject: taskId, causationId }));
}

/** pending|running → failed, once; emits task.failed. */
export async function failTask({ tx, emit }: UnitOfWorkContext, tenantId: string, taskId: string, error: ErrorInfo, causationId: string): Promise<void> {
  const now = new Date();
  const { count } = await tx.task.updateMany({ where: { id: taskId, status: { in: ['pending', 'running'] } }, data: { status: 'failed', error: json(error), completedAt: now } });
  if (count === 1) emit(makeEvent('task.failed.v1', { taskId, error, failedAt: now.toISOString() }, { source: SOURCE, tenantId, correlationId: taskId, subject: taskId, causationId }));
}
