import { Inject, Module, type OnApplicationBootstrap } from '@nestjs/common';
import { Filters } from '@steward/contracts';
import { ServiceRuntime } from '@steward/service-kit';
import type { WorkflowRunnerConfig } from './config.js';
import { registerDefinitions } from './definitions/register-definitions.js';
import { advanceRuns } from './runs/advance-run.handler.js';
import { startRuns } from './runs/start-run.handler.js';

/** Runs workflow definitions as durable runs: every step run is checkpointed with the events it emits. */
@Module({})
export class WorkflowRunnerModule implements OnApplicationBootstrap {
  constructor(@Inject(ServiceRuntime) private readonly rt: ServiceRuntime<WorkflowRunnerConfig>) {}

  async onApplicationBootstrap(): Promise<void> {
    const { rt } = this;
    const { config } = rt;
    const report = await registerDefinitions(rt.prisma, config.WORKFLOWS_DIR);
    for (const r of report.refused) rt.log.error(r, 'workflow definition refused');
    rt.log.info({ registered: report.registered, unchanged: report.unchanged }, 'workflow definitions loaded');

    await rt.consumeIdempotent({
      durable: 'workflow-runner-start',
      stream: 'commands',
      accepts: ['workflow.start.v1'],
      concurrency: config.CONSUMER_CONCURRENCY,
      maxBatch: config.CONSUMER_MAX_BATCH,
      handle: (ctx, events) => startRuns(ctx, events.map((e) => e.envelope)),
    });
    await rt.consumeIdempotent({
      durable: 'workflow-runner-skill-results',
      stream: 'events',
      accepts: ['skill.invocation.completed.v1', 'skill.invocation.failed.v1'],
      filter: Filters.skillResultsFor('workflow-runner'),
      concurrency: config.CONSUMER_CONCURRENCY,
      maxBatch: config.CONSUMER_MAX_BATCH,
      handle: (ctx, events) => advanceRuns(ctx, events, config.STEP_MAX_ATTEMPTS),
    });
  }
}
