import { BaseConfig, withHttpPort } from '@steward/service-kit';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

export const WorkflowRunnerConfig = BaseConfig.extend(withHttpPort(8082).shape).extend({
  /** Directory of YAML/JSON workflow definitions registered (as shared, tenant `system`) at start-up. */
  WORKFLOWS_DIR: z.string().default(fileURLToPath(new URL('../workflows', import.meta.url))),
  /** Attempts of a step whose definition sets no retry.max_attempts. */
  STEP_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(3),
  /** How often the timer sweep looks for due retries, waits, deadlines and leases (it also wakes when one is due). */
  TIMER_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  /** Slack beyond a skill's timeout before the runner fails an attempt the worker never reported on. */
  DEADLINE_GRACE_MS: z.coerce.number().int().min(0).default(5000),
  CONSUMER_CONCURRENCY: z.coerce.number().int().min(1).max(512).default(8),
  /** Workers report each step's start, then a heartbeat this often (steps with heartbeat_timeout: a third of it). */
  STEP_PROGRESS_INTERVAL_MS: z.coerce.number().int().min(100).default(30_000),
  /** A batch the runner took but did not acknowledge (it crashed) is redelivered after this. */
  CONSUMER_ACK_WAIT_MS: z.coerce.number().int().min(500).default(30_000),
  /**
   * Runs kept as this runner last committed them, so a step's result is handled without reading its run again (one
   * round trip less per step; a stale copy is caught by a version check and the work redone). 0 turns it off.
   */
  RUN_CACHE_RUNS: z.coerce.number().int().min(0).default(10_000),
  /** Most events handled in one transaction. */
  CONSUMER_MAX_BATCH: z.coerce.number().int().min(1).max(1000).default(64),
});
export type WorkflowRunnerConfig = z.infer<typeof WorkflowRunnerConfig>;
