import { BaseConfig, withHttpPort } from '@steward/service-kit';
import { z } from 'zod';

export const EscalationConfig = BaseConfig.extend(withHttpPort(8084).shape).extend({
  CONSUMER_CONCURRENCY: z.coerce.number().int().min(1).max(512).default(16),
  /** How often the sweep looks for batches to send and decisions whose fallback is due (it also wakes at those times). */
  TIMER_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  /** An escalated decision with a fallback and no fallbackAt takes its fallback after this long without an answer. */
  DECISION_FALLBACK_AFTER_MS: z.coerce.number().int().min(1000).default(24 * 3600 * 1000),
  /** Seed of the engine's audit sampling (deterministic per seed). */
  ENGINE_SEED: z.coerce.number().int().default(1),
});
export type EscalationConfig = z.infer<typeof EscalationConfig>;
