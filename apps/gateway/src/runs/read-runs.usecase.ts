import { Inject, Injectable } from '@nestjs/common';
import { ServiceRuntime } from '@steward/service-kit';
import type { StepRun, WorkflowRun } from '@steward/state';
import { ApiError } from '../http/api-error.js';
import type { RunSummaryView, RunView, StepRunView, TaskRunsView } from './run.dto.js';

/** Reads of workflow runs and their step runs, scoped to the tenant: another tenant's run is not found. */
@Injectable()
export class ReadRunsUseCase {
  constructor(@Inject(ServiceRuntime) private readonly runtime: ServiceRuntime) {}

  async get(tenantId: string, runId: string): Promise<RunView> {
    const run = await this.runtime.prisma.workflowRun.findFirst({ where: { id: runId, tenantId }, include: { steps: { orderBy: { stepPath: 'asc' } } } });
    if (!run) throw new ApiError(404, 'not_found', `run ${runId} not found`);
    return { ...toRunSummary(run), steps: run.steps.map(toStepView) };
  }

  /** The task's runs, the root and its children (child workflow steps), oldest first. */
  async ofTask(tenantId: string, taskId: string): Promise<TaskRunsView> {
    const task = await this.runtime.prisma.task.findFirst({ where: { id: taskId, tenantId }, select: { id: true } });
    if (!task) throw new ApiError(404, 'not_found', `task ${taskId} not found`);
    const runs = await this.runtime.prisma.workflowRun.findMany({ where: { taskId, tenantId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
    return { taskId, runs: runs.map(toRunSummary) };
  }
}

const iso = (d: Date | null): string | undefined => d?.toISOString();

export function toRunSummary(r: WorkflowRun): RunSummaryView {
  return {
    id: r.id,
    taskId: r.taskId,
    workflow: { name: r.workflowName, version: r.workflowVersion },
    status: r.status,
    input: r.input,
    ...(r.output !== null ? { output: r.output } : {}),
    ...(r.error !== null ? { error: r.error } : {}),
    ...(r.parentRunId ? { parentRunId: r.parentRunId } : {}),
    createdAt: r.createdAt.toISOString(),
    ...(r.startedAt ? { startedAt: iso(r.startedAt) } : {}),
    ...(r.completedAt ? { completedAt: iso(r.completedAt) } : {}),
    updatedAt: r.updatedAt.toISOString(),
  };
}

export function toStepView(s: StepRun): StepRunView {
  return {
    id: s.id,
    stepPath: s.stepPath,
    status: s.status,
    attempt: s.attempt,
    ...(s.input !== null ? { input: s.input } : {}),
    ...(s.output !== null ? { output: s.output } : {}),
    ...(s.error !== null ? { error: s.error } : {}),
    ...(s.waitFor ? { waitFor: s.waitFor } : {}),
    ...(s.scheduledAt ? { scheduledAt: iso(s.scheduledAt) } : {}),
    ...(s.startedAt ? { startedAt: iso(s.startedAt) } : {}),
    ...(s.completedAt ? { completedAt: iso(s.completedAt) } : {}),
    ...(s.nextAttemptAt ? { nextAttemptAt: iso(s.nextAttemptAt) } : {}),
    ...(s.deadlineAt ? { deadlineAt: iso(s.deadlineAt) } : {}),
    updatedAt: s.updatedAt.toISOString(),
  };
}
