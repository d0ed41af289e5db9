import { Global, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ServiceRuntime } from '@steward/service-kit';
import { ApiErrorFilter } from './http/api-error.js';
import { RateLimitGuard } from './http/rate-limit.js';
import { TasksModule } from './tasks/tasks.module.js';

/** The public API: routes, the one error shape, rate limits. */
@Global()
@Module({
  imports: [TasksModule],
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
