import { Inject, Injectable } from '@nestjs/common';
import { makeEvent, type WorkflowControlV1 } from '@steward/contracts';
import { ServiceRuntime } from '@steward/service-kit';
import { randomUUID } from 'node:crypto';
import { ApiError } from '../http/api-error.js';
import { derivedUuid } from '../http/idempotency.js';
import { publishOr503 } from '../http/publish.js';
import type { ControlAccepted, ControlAction } from './run.dto.js';

/** A run in one of these has ended: nothing can be retried, skipped or cancelled in it any more. */
const FINISHED = new Set(['completed', 'failed', 'cancelled']);

/**
 * Operators' commands on a run: retry or skip a parked step, cancel the run. The gateway checks what it can (the run is
 * the tenant's, the state allows the action) so a mistake gets a helpful 409, then publishes `workflow.control.v1` for
 * the workflow-runner, which re-checks under its own lock (the state may change in between) and carries it out.
 */
@Injectable()
export class ControlRunUseCase {
  constructor(@Inject(ServiceRuntime) private readonly runtime: ServiceRuntime) {}

  async execute(tenantId: string, runId: string, action: ControlAction, idempotencyKey?: string): Promise<ControlAccepted> {
    const prisma = this.runtime.prisma;
    const run = await prisma.workflowRun.findFirst({ where: { id: runId, tenantId }, select: { id: true, taskId: true, status: true } });
    if (!run) throw new ApiError(404, 'not_found', `run ${runId} not found`);
    if (FINISHED.has(run.status)) throw new ApiError(409, 'run_finished', `run ${runId} is ${run.status}; there is nothing left to ${action.kind}`);
    if (action.kind !== 'cancel') {
      const step = await prisma.stepRun.findUnique({ where: { runId_stepPath: { runId, stepPath: action.stepPath } }, select: { status: true } });
      if (!step) throw new ApiError(404, 'step_not_found', `run ${runId} has no step ${action.stepPath}`);
      if (step.status !== 'parked') {
        throw new ApiError(409, 'step_not_parked', `step ${action.stepPath} is ${step.status}; only a parked step (one that failed for good) can be ${action.kind === 'retry' ? 'retried' : 'skipped'}`);
      }
    }

    const target = action.kind === 'cancel' ? '' : action.stepPath;
    const requestId = idempotencyKey === undefined ? randomUUID() : derivedUuid('workflow.control.v1', tenantId, runId, action.kind, target, idempotencyKey);
    const command: WorkflowControlV1['action'] =
      action.kind === 'cancel' ? { kind: 'cancel', reason: action.reason ?? 'cancelled' } : action.kind === 'skip' ? { kind: 'skip', stepPath: action.stepPath, output: action.output } : { kind: 'retry', stepPath: action.stepPath };
    await publishOr503(
      this.runtime,
      makeEvent('workflow.control.v1', { requestId, tenantId, runId, action: command }, { source: 'steward/gateway', tenantId, correlationId: run.taskId, subject: runId, id: requestId }),
    );
    return { runId, action: action.kind, requestId };
  }
}
