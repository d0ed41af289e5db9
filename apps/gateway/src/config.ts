import { BaseConfig, RedisConfig, withHttpPort } from '@steward/service-kit';
import { z } from 'zod';

export const GatewayConfig = BaseConfig.extend(withHttpPort(8080).shape)
  .extend(RedisConfig.shape)
  .extend({
    /** Requests per second per API key; enforced in Redis, failing open when Redis is down. */
    RATE_LIMIT_PER_SECOND: z.coerce.number().int().positive().default(5000),
    /** How long a verified API key is trusted without a database lookup; a revocation elsewhere takes effect within it. */
    API_KEY_CACHE_MS: z.coerce.number().int().nonnegative().default(10_000),
    BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(1024 * 1024),
  });
export type GatewayConfig = z.infer<typeof GatewayConfig>;
