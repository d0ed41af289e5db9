import { BaseConfig, withHttpPort } from '@steward/service-kit';
import { z } from 'zod';

export const OrchestratorConfig = BaseConfig.extend(withHttpPort(8081).shape).extend({
  /** Attempts of a single-skill task's invocation when the skill reports a retryable error. */
  SKILL_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(3),
  /** A single-skill invocation pending this long past its skill's timeout is dispatched again (or its task fails). */
  STUCK_AFTER_MS: z.coerce.number().int().min(1000).default(15 * 60_000),
  /** How often the orchestrator looks for stuck invocations. */
  RECOVERY_INTERVAL_MS: z.coerce.number().int().min(100).default(60_000),
  CONSUMER_CONCURRENCY: z.coerce.number().int().min(1).max(512).default(8),
});
export type OrchestratorConfig = z.infer<typeof OrchestratorConfig>;
