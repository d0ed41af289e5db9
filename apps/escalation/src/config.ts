import { BaseConfig, withHttpPort } from '@steward/service-kit';
import { z } from 'zod';

export const EscalationConfig = BaseConfig.extend(withHttpPort(8084).shape).extend({
  CONSUMER_CONCURRENCY: z.coerce.number().int().min(1).max(512).default(16),
});
export type EscalationConfig = z.infer<typeof EscalationConfig>;
