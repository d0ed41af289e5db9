import { Inject, Module, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import { Filters } from '@steward/contracts';
import { ServiceRuntime } from '@steward/service-kit';
import { finishSkillTask } from './tasks/finish-skill-task.handler.js';
import { finishWorkflowTask } from './tasks/finish-workflow-task.handler.js';
import { startTask } from './tasks/start-task.handler.js';
import type { OrchestratorConfig } from './config.js';

const CONFIG = Symbol('ORCHESTRATOR_CONFIG');

/** Owns the task lifecycle: consumes submissions and the results of skills and workflow runs. */
@Module({})
export class OrchestratorModule implements OnApplicationBootstrap {
  constructor(
    @Inject(ServiceRuntime) private readonly rt: ServiceRuntime,
    @Inject(CONFIG) private readonly config: OrchestratorConfig,
  ) {}

  static forRoot(config: OrchestratorConfig): DynamicModule {
    return { module: OrchestratorModule, providers: [{ provide: CONFIG, useValue: config }] };
  }

  async onApplicationBootstrap(): Promise<void> {
    const { rt } = this;
    const concurrency = this.config.CONSUMER_CONCURRENCY;
    await rt.consume({
      durable: 'orchestrator-task-submitted',
      stream: 'events',
      accepts: ['task.submitted.v1'],
      concurrency,
      handle: async (e) => {
        await rt.uow.run((ctx) => startTask(ctx, e.envelope), { inbox: { consumer: 'orchestrator-task-submitted', eventId: e.envelope.id } });
      },
    });
    await rt.consume({
      durable: 'orchestrator-skill-results',
      stream: 'events',
      accepts: ['skill.invocation.completed.v1', 'skill.invocation.failed.v1'],
      filter: Filters.skillResultsFor('orchestrator'),
      concurrency,
      handle: async (e) => {
        const kind = e.key === 'skill.invocation.completed.v1' ? 'completed' : 'failed';
        await rt.uow.run((ctx) => finishSkillTask(ctx, e.envelope, kind, this.config.SKILL_MAX_ATTEMPTS), { inbox: { consumer: 'orchestrator-skill-results', eventId: e.envelope.id } });
      },
    });
    await rt.consume({
      durable: 'orchestrator-workflow-results',
      stream: 'events',
      accepts: ['workflow.run.started.v1', 'workflow.run.completed.v1', 'workflow.run.failed.v1'],
      filter: Filters.workflowRunLifecycle,
      concurrency,
      handle: async (e) => {
        switch (e.key) {
          case 'workflow.run.started.v1':
            return; // the task is already running; nothing to record
          case 'workflow.run.completed.v1':
          case 'workflow.run.failed.v1': {
            const kind = e.key === 'workflow.run.completed.v1' ? 'completed' : 'failed';
            await rt.uow.run((ctx) => finishWorkflowTask(ctx, e.envelope, kind), { inbox: { consumer: 'orchestrator-workflow-results', eventId: e.envelope.id } });
          }
        }
      },
    });
  }
}
