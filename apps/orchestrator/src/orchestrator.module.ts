import { Inject, Module, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Filters } from '@steward/contracts';
import type { HandlerEvent } from '@steward/bus';
import { ServiceRuntime, each } from '@steward/service-kit';
import { cancelRunOfCancelledTask, cancelTasks } from './tasks/cancel-task.handler.js';
import { finishSkillTasks } from './tasks/finish-skill-task.handler.js';
import { finishWorkflowTask } from './tasks/finish-workflow-task.handler.js';
import { startTasks } from './tasks/start-task.handler.js';
import { TaskMetrics, tracking, type FinishedTask } from './tasks/task-outcomes.js';
import { recoverStuckInvocations } from './recovery/recover-stuck-invocations.js';
import type { OrchestratorConfig } from './config.js';

const WORKFLOW_RESULTS = ['workflow.run.started.v1', 'workflow.run.completed.v1', 'workflow.run.failed.v1', 'workflow.run.parked.v1', 'workflow.run.resumed.v1', 'workflow.run.cancelled.v1'] as const;

/** Owns the task lifecycle: consumes submissions, cancellations and the results of skills and workflow runs. */
@Module({})
export class OrchestratorModule implements OnApplicationBootstrap, OnModuleDestroy {
  private recovery: NodeJS.Timeout | undefined;
  private readonly metrics: TaskMetrics;

  constructor(@Inject(ServiceRuntime) private readonly rt: ServiceRuntime<OrchestratorConfig>) {
    this.metrics = new TaskMetrics(rt.registry);
  }

  async onApplicationBootstrap(): Promise<void> {
    const { rt, metrics } = this;
    // Handlers note the tasks they finish; they are counted once the transaction has committed.
    const afterCommit = metrics.count;
    const concurrency = this.rt.config.CONSUMER_CONCURRENCY;
    await rt.consumeIdempotent({
      durable: 'orchestrator-task-submitted',
      stream: 'events',
      accepts: ['task.submitted.v1'],
      concurrency,
      sqlOnly: true,
      handle: metrics.track((ctx, events: HandlerEvent<'task.submitted.v1'>[]) => startTasks(ctx, events.map((e) => e.envelope))),
      afterCommit,
      inbox: false, // a redelivery finds its task no longer pending (the start is a conditional update) and does nothing
    });
    await rt.consumeIdempotent({
      durable: 'orchestrator-skill-results',
      stream: 'events',
      accepts: ['skill.invocation.completed.v1', 'skill.invocation.failed.v1'],
      filter: Filters.skillResultsFor('orchestrator'),
      concurrency,
      sqlOnly: true,
      handle: metrics.track((ctx, events: HandlerEvent<'skill.invocation.completed.v1' | 'skill.invocation.failed.v1'>[]) => finishSkillTasks(ctx, events, this.rt.config.SKILL_MAX_ATTEMPTS)),
      afterCommit,
      inbox: false, // results are fenced on the invocation's attempt and open status: a redelivery is not accepted again
    });
    await rt.consumeIdempotent({
      durable: 'orchestrator-task-cancel',
      stream: 'commands',
      accepts: ['task.cancel.v1'],
      concurrency,
      sqlOnly: true,
      handle: metrics.track((ctx, events: HandlerEvent<'task.cancel.v1'>[]) => cancelTasks(ctx, events.map((e) => e.envelope))),
      afterCommit,
    });
    await rt.consumeIdempotent({
      durable: 'orchestrator-workflow-results',
      stream: 'events',
      accepts: [...WORKFLOW_RESULTS],
      filter: Filters.workflowRunLifecycle,
      concurrency,
      sqlOnly: true,
      handle: metrics.track(each(async (ctx, e: HandlerEvent<(typeof WORKFLOW_RESULTS)[number]>) => {
        switch (e.key) {
          case 'workflow.run.started.v1':
            return cancelRunOfCancelledTask(ctx, e.envelope); // a task cancelled before its run existed
          case 'workflow.run.parked.v1':
          case 'workflow.run.resumed.v1':
            return; // the task stays running; the run's own events tell the detail
          case 'workflow.run.completed.v1':
          case 'workflow.run.failed.v1':
          case 'workflow.run.cancelled.v1':
            return finishWorkflowTask(ctx, e);
        }
      })),
      afterCommit,
    });
    this.recovery = setInterval(() => void this.recover(), this.rt.config.RECOVERY_INTERVAL_MS);
  }

  private async recover(): Promise<void> {
    try {
      const finished: FinishedTask[] = [];
      const n = await this.rt.uow.sqlTransaction((ctx) => recoverStuckInvocations(tracking(ctx, finished), { stuckAfterMs: this.rt.config.STUCK_AFTER_MS, maxAttempts: this.rt.config.SKILL_MAX_ATTEMPTS }));
      this.metrics.count(finished); // committed
      if (n > 0) this.rt.log.warn({ recovered: n }, 'recovered stuck skill invocations');
    } catch (err) {
      this.rt.log.warn({ err }, 'stuck-invocation recovery failed; will try again');
    }
  }

  onModuleDestroy(): void {
    clearInterval(this.recovery);
  }
}
