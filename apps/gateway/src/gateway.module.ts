import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ServiceRuntime } from '@steward/service-kit';
import { ApiErrorFilter } from './http/api-error.js';
import { RATE_LIMIT, RateLimitGuard } from './http/rate-limit.js';
import { TasksModule } from './tasks/tasks.module.js';

@Module({})
export class GatewayModule {
  static forRoot(opts: { rateLimitPerSecond: number }): DynamicModule {
    return {
      module: GatewayModule,
      global: true,
      imports: [TasksModule],
      providers: [
        { provide: RATE_LIMIT, useValue: opts.rateLimitPerSecond },
        RateLimitGuard,
        {
          provide: APP_FILTER,
          inject: [ServiceRuntime],
          useFactory: (rt: ServiceRuntime) => new ApiErrorFilter((err) => rt.log.error({ err }, 'unhandled error')),
        },
      ],
      exports: [RATE_LIMIT, RateLimitGuard],
    };
  }
}
