import { Global, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { ServiceRuntime } from '@steward/service-kit';
import { AuditModule } from './audit/audit.module.js';
import { ApiGuard } from './auth/api.guard.js';
import { EscalationsModule } from './escalations/escalations.module.js';
import { EventsModule } from './events/events.module.js';
import { ApiErrorFilter } from './http/api-error.js';
import { InboxModule } from './inbox/inbox.module.js';
import { KeysModule } from './keys/keys.module.js';
import { LiveModule } from './live/live.module.js';
import { OpenApiModule } from './openapi/openapi.module.js';
import { RunsModule } from './runs/runs.module.js';
import { SessionsModule } from './sessions/sessions.module.js';
import { SkillsModule } from './skills/skills.module.js';
import { TasksModule } from './tasks/tasks.module.js';
import { WebhooksModule } from './webhooks/webhooks.module.js';
import { WorkflowsModule } from './workflows/workflows.module.js';

/** The public API: tasks, workflow definitions, runs and their control, external events, escalations, the skill catalogue, API keys; authentication, scopes and rate limits on every route; the one error shape. */
@Global()
@Module({
  imports: [KeysModule, TasksModule, WorkflowsModule, RunsModule, EventsModule, EscalationsModule, SkillsModule, SessionsModule, OpenApiModule, AuditModule, LiveModule, WebhooksModule, InboxModule],
  providers: [
    ApiGuard,
    { provide: APP_GUARD, useExisting: ApiGuard },
    {
      provide: APP_FILTER,
      inject: [ServiceRuntime],
      useFactory: (rt: ServiceRuntime) => new ApiErrorFilter((err) => rt.log.error({ err }, 'unhandled error')),
    },
  ],
  exports: [ApiGuard],
})
export class GatewayModule {}
