import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { ServiceRuntime } from '@steward/service-kit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayConfig } from '../config.js';
import { ApiError } from './api-error.js';
import { tenantOf } from './tenant.js';

/** Fixed one-second windows per tenant in Redis. Redis down: the request passes and a warning is logged (rule 7). */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private warnedAt = 0;

  constructor(
    @Inject(ServiceRuntime) private readonly runtime: ServiceRuntime<GatewayConfig>,
  ) {}

  private get perSecond(): number {
    return this.runtime.config.RATE_LIMIT_PER_SECOND;
  }

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const redis = this.runtime.redis;
    if (!redis) return true;
    const req = ctx.switchToHttp().getRequest<FastifyRequest>();
    const second = Math.floor(Date.now() / 1000);
    const key = `steward:rl:${tenantOf(req)}:${second}`;
    let count: number;
    try {
      const res = await redis.multi().incr(key).pexpire(key, 2000).exec();
      count = Number(res?.[0]?.[1] ?? 0);
    } catch (err) {
      if (Date.now() - this.warnedAt > 10_000) {
        this.warnedAt = Date.now();
        this.runtime.log.warn({ err: (err as Error).message }, 'rate limiter unavailable (Redis); failing open');
      }
      return true;
    }
    if (count > this.perSecond) {
      const reply = ctx.switchToHttp().getResponse<FastifyReply>();
      void reply.header('retry-after', '1');
      throw new ApiError(429, 'rate_limited', `more than ${this.perSecond} requests per second for this tenant`);
    }
    return true;
  }
}
