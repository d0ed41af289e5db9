import { BaseConfig, withHttpPort } from '@steward/service-kit';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

export const WorkflowRunnerConfig = BaseConfig.extend(withHttpPort(8082).shape).extend({
  /** Directory of YAML/JSON workflow definitions registered at start-up. */
  WORKFLOWS_DIR: z.string().default(fileURLToPath(new URL('../workflows', import.meta.url))),
  STEP_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(3),
  CONSUMER_CONCURRENCY: z.coerce.number().int().min(1).max(512).default(8),
  /** Most events handled in one transaction. */
  CONSUMER_MAX_BATCH: z.coerce.number().int().min(1).max(1000).default(64),
});
export type WorkflowRunnerConfig = z.infer<typeof WorkflowRunnerConfig>;
