import { BaseConfig, RedisConfig, withHttpPort } from '@steward/service-kit';
import { z } from 'zod';

export const GatewayConfig = BaseConfig.extend(withHttpPort(8080).shape)
  .extend(RedisConfig.shape)
  .extend({
    /** Requests per second per tenant; enforced in Redis, failing open when Redis is down. */
    RATE_LIMIT_PER_SECOND: z.coerce.number().int().positive().default(5000),
    BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(1024 * 1024),
  });
export type GatewayConfig = z.infer<typeof GatewayConfig>;
