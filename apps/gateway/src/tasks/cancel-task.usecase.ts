import { Inject, Injectable } from '@nestjs/common';
import { makeEvent } from '@steward/contracts';
import { ServiceRuntime } from '@steward/service-kit';
import { randomUUID } from 'node:crypto';
import { ApiError } from '../http/api-error.js';
import { derivedUuid } from '../http/idempotency.js';
import { publishOr503 } from '../http/publish.js';
import type { TaskCancelView } from './task.dto.js';

export interface CancelTaskResult {
  /** True: the command went to the orchestrator (202). False: the task was already cancelled (200). */
  accepted: boolean;
  view: TaskCancelView;
}

/**
 * Cancels a task of the tenant. The gateway checks what it can (the task is the tenant's and has not ended) so a
 * mistake gets a helpful 409, then publishes `task.cancel.v1`; the orchestrator re-checks under its lock and
 * carries it out (a skill task at once, a workflow task through its root run). Cancelling an already cancelled task
 * is answered 200 and sends nothing, so a repeated request is harmless.
 */
@Injectable()
export class CancelTaskUseCase {
  constructor(@Inject(ServiceRuntime) private readonly runtime: ServiceRuntime) {}

  async execute(tenantId: string, taskId: string, reason: string | undefined, idempotencyKey?: string): Promise<CancelTaskResult> {
    const task = await this.runtime.prisma.task.findFirst({ where: { id: taskId, tenantId }, select: { status: true } });
    if (!task) throw new ApiError(404, 'not_found', `task ${taskId} not found`);
    if (task.status === 'cancelled') return { accepted: false, view: { taskId, status: 'cancelled' } };
    if (task.status === 'completed' || task.status === 'failed') throw new ApiError(409, 'task_finished', `task ${taskId} is ${task.status}; there is nothing left to cancel`);

    const requestId = idempotencyKey === undefined ? randomUUID() : derivedUuid('task.cancel.v1', tenantId, taskId, idempotencyKey);
    await publishOr503(
      this.runtime,
      makeEvent('task.cancel.v1', { requestId, tenantId, taskId, reason: reason ?? 'cancelled' }, { source: 'steward/gateway', tenantId, correlationId: taskId, subject: taskId, id: requestId }),
    );
    return { accepted: true, view: { taskId, status: task.status, requestId } };
  }
}
