import { Inject, Injectable } from '@nestjs/common';
import { ServiceRuntime } from '@steward/service-kit';
import type { Task } from '@steward/state';
import { ApiError } from '../http/api-error.js';
import type { TaskSummaryView, TaskView } from './task.dto.js';

@Injectable()
export class GetTaskUseCase {
  constructor(@Inject(ServiceRuntime) private readonly runtime: ServiceRuntime) {}

  async execute(tenantId: string, taskId: string): Promise<TaskView> {
    const task = await this.runtime.prisma.task.findFirst({ where: { id: taskId, tenantId } });
    if (!task) throw new ApiError(404, 'not_found', `task ${taskId} not found`);
    return toTaskView(task);
  }
}

/** The columns a task summary needs (a list reads no input or output). */
export const TASK_SUMMARY_COLUMNS = {
  id: true,
  status: true,
  kind: true,
  skill: true,
  workflowName: true,
  workflowVersion: true,
  sessionId: true,
  error: true,
  createdAt: true,
  startedAt: true,
  completedAt: true,
} as const;

export function toTaskSummaryView(t: Pick<Task, keyof typeof TASK_SUMMARY_COLUMNS>): TaskSummaryView {
  return {
    taskId: t.id,
    status: t.status,
    kind: t.kind,
    ...(t.skill ? { skill: t.skill } : {}),
    ...(t.workflowName && t.workflowVersion ? { workflow: { name: t.workflowName, version: t.workflowVersion } } : {}),
    ...(t.sessionId ? { sessionId: t.sessionId } : {}),
    ...(t.error !== null ? { error: t.error } : {}),
    createdAt: t.createdAt.toISOString(),
    ...(t.startedAt ? { startedAt: t.startedAt.toISOString() } : {}),
    ...(t.completedAt ? { completedAt: t.completedAt.toISOString() } : {}),
  };
}

export function toTaskView(t: Task): TaskView {
  const { error, createdAt, startedAt, completedAt, ...head } = toTaskSummaryView(t);
  return {
    ...head,
    input: t.input,
    ...(t.output !== null ? { output: t.output } : {}),
    ...(error !== undefined ? { error } : {}),
    createdAt,
    ...(startedAt ? { startedAt } : {}),
    ...(completedAt ? { completedAt } : {}),
  };
}
