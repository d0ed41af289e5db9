import { Global, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ServiceRuntime } from '@steward/service-kit';
import { EscalationsModule } from './escalations/escalations.module.js';
import { EventsModule } from './events/events.module.js';
import { ApiErrorFilter } from './http/api-error.js';
import { RateLimitGuard } from './http/rate-limit.js';
import { RunsModule } from './runs/runs.module.js';
import { SkillsModule } from './skills/skills.module.js';
import { TasksModule } from './tasks/tasks.module.js';
import { WorkflowsModule } from './workflows/workflows.module.js';

/** The public API: tasks, workflow definitions, runs and their control, external events, escalations, the skill catalogue; the one error shape, rate limits. */
@Global()
@Module({
  imports: [TasksModule, WorkflowsModule, RunsModule, EventsModule, EscalationsModule, SkillsModule],
  providers: [
    RateLimitGuard,
    {
      provide: APP_FILTER,
      inject: [ServiceRuntime],
      useFactory: (rt: ServiceRuntime) => new ApiErrorFilter((err) => rt.log.error({ err }, 'unhandled error')),
    },
  ],
  exports: [RateLimitGuard],
})
export class GatewayModule {}
