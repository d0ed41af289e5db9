import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { PUBLIC_ROUTE, ServiceRuntime } from '@steward/service-kit';
import { hasScope, hashApiKey, verifyApiKey, type ApiPrincipal, type ApiScope } from '@steward/state';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayConfig } from '../config.js';
import { ApiError } from '../http/api-error.js';
import { ApiKeyCache } from './key-cache.js';
import { setPrincipal } from './principal.js';
import { SCOPE_METADATA, defaultScope } from './scopes.js';

/**
 * Every request except public routes: authenticate the API key (`Authorization: Bearer stw_…`), check the route's
 * scope, then count it against the key's rate limit in Redis (fixed one-second windows; Redis down: pass and warn).
 */
@Injectable()
export class ApiGuard implements CanActivate {
  readonly keys: ApiKeyCache;
  private readonly touchedAt = new Map<string, number>();
  private warnedAt = 0;

  constructor(
    @Inject(ServiceRuntime) private readonly runtime: ServiceRuntime<GatewayConfig>,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {
    this.keys = new ApiKeyCache(runtime.config.API_KEY_CACHE_MS);
  }

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const req = ctx.switchToHttp().getRequest<FastifyRequest>();
    const reply = ctx.switchToHttp().getResponse<FastifyReply>();

    const principal = await this.authenticate(req, reply);
    const needed = this.reflector.getAllAndOverride<ApiScope | undefined>(SCOPE_METADATA, targets) ?? defaultScope(req.method);
    if (!hasScope(principal.scopes, needed)) throw new ApiError(403, 'forbidden', `this API key lacks the "${needed}" scope`);
    setPrincipal(req, principal);
    await this.rateLimit(principal, reply);
    return true;
  }

  private async authenticate(req: FastifyRequest, reply: FastifyReply): Promise<ApiPrincipal> {
    const header = req.headers.authorization;
    const m = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) {
      void reply.header('www-authenticate', 'Bearer realm="steward"');
      throw new ApiError(401, 'unauthenticated', 'send an API key as "Authorization: Bearer <key>"');
    }
    const key = m[1]!;
    const hash = hashApiKey(key);
    const now = Date.now();
    let entry = this.keys.get(hash, now);
    if (!entry) {
      const principal = await verifyApiKey(this.runtime.prisma, key);
      this.keys.set(hash, principal, now);
      entry = { principal, until: 0 };
    }
    if (!entry.principal) {
      void reply.header('www-authenticate', 'Bearer realm="steward", error="invalid_token"');
      throw new ApiError(401, 'unauthenticated', 'the API key is unknown or revoked');
    }
    this.touch(entry.principal.keyId, now);
    return entry.principal;
  }

  /** Records when a key was last used, at most once a minute per key and off the request's path. */
  private touch(keyId: string, now: number): void {
    if ((this.touchedAt.get(keyId) ?? 0) > now - 60_000) return;
    this.touchedAt.set(keyId, now);
    this.runtime.prisma.apiKey.update({ where: { id: keyId }, data: { lastUsedAt: new Date(now) } }).catch((err: unknown) => {
      this.runtime.log.warn({ err: (err as Error).message, keyId }, 'could not record key use');
    });
  }

  private async rateLimit(principal: ApiPrincipal, reply: FastifyReply): Promise<void> {
    const redis = this.runtime.redis;
    if (!redis) return;
    const perSecond = this.runtime.config.RATE_LIMIT_PER_SECOND;
    const key = `steward:rl:${principal.keyId}:${Math.floor(Date.now() / 1000)}`;
    let count: number;
    try {
      const res = await redis.multi().incr(key).pexpire(key, 2000).exec();
      count = Number(res?.[0]?.[1] ?? 0);
    } catch (err) {
      if (Date.now() - this.warnedAt > 10_000) {
        this.warnedAt = Date.now();
        this.runtime.log.warn({ err: (err as Error).message }, 'rate limiter unavailable (Redis); failing open');
      }
      return;
    }
    if (count > perSecond) {
      void reply.header('retry-after', '1');
      throw new ApiError(429, 'rate_limited', `more than ${perSecond} requests per second for this API key`);
    }
  }
}
