import { BaseConfig, withHttpPort } from '@steward/service-kit';
import { z } from 'zod';

export const SkillWorkerConfig = BaseConfig.extend(withHttpPort(8083).shape).extend({
  /** `*` consumes every category through one shared durable; a comma list runs dedicated pools (`dev,text`). */
  SKILL_CATEGORIES: z
    .string()
    .default('*')
    .transform((s) => (s.trim() === '*' ? ('*' as const) : s.split(',').map((c) => c.trim()).filter(Boolean)))
    .pipe(z.union([z.literal('*'), z.array(z.string().regex(/^[a-z][a-z0-9-]*$/, 'categories are lowercase words')).min(1)])),
  /** Skill invocations run at once by this worker. */
  SKILL_CONCURRENCY: z.coerce.number().int().min(1).max(1024).default(32),
  /** Redelivery after a crash happens once this passes without a heartbeat; heartbeats run every third of it. */
  SKILL_ACK_WAIT_MS: z.coerce.number().int().min(500).default(30_000),
  /** Also load the `test.*` skills the end-to-end tests use (never in production). */
  TEST_SKILLS: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
});
export type SkillWorkerConfig = z.infer<typeof SkillWorkerConfig>;
