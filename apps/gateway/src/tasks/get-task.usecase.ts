import { Inject, Injectable } from '@nestjs/common';
import { ServiceRuntime } from '@steward/service-kit';
import type { Task } from '@steward/state';
import { ApiError } from '../http/api-error.js';
import type { TaskView } from './task.dto.js';

@Injectable()
export class GetTaskUseCase {
  constructor(@Inject(ServiceRuntime) private readonly runtime: ServiceRuntime) {}

  async execute(tenantId: string, taskId: string): Promise<TaskView> {
    const task = await this.runtime.prisma.task.findFirst({ where: { id: taskId, tenantId } });
    if (!task) throw new ApiError(404, 'not_found', `task ${taskId} not found`);
    return toTaskView(task);
  }
}

export function toTaskView(t: Task): TaskView {
  return {
    taskId: t.id,
    status: t.status,
    kind: t.kind,
    ...(t.skill ? { skill: t.skill } : {}),
    ...(t.workflowName && t.workflowVersion ? { workflow: { name: t.workflowName, version: t.workflowVersion } } : {}),
    input: t.input,
    ...(t.output !== null ? { output: t.output } : {}),
    ...(t.error !== null ? { error: t.error } : {}),
    createdAt: t.createdAt.toISOString(),
    ...(t.startedAt ? { startedAt: t.startedAt.toISOString() } : {}),
    ...(t.completedAt ? { completedAt: t.completedAt.toISOString() } : {}),
  };
}
