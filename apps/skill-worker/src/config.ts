import { LlmEnvSchema } from '@steward/llm';
import { BaseConfig, withHttpPort } from '@steward/service-kit';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** The prompt skills shipped with Steward (Agent Skills folders). */
const SHIPPED_SKILLS_DIR = fileURLToPath(new URL('../skills', import.meta.url));

export const SkillWorkerConfig = BaseConfig.extend(withHttpPort(8083).shape).extend(LlmEnvSchema.shape).extend({
  /** A folder of Agent Skills (`<skill>/SKILL.md`); only their front matter is read at start-up. */
  SKILLS_DIR: z.string().min(1).default(SHIPPED_SKILLS_DIR),
  /** A skill output larger than this (bytes of JSON) is stored in PostgreSQL and published as a reference. */
  SKILL_OUTPUT_INLINE_MAX_BYTES: z.coerce.number().int().min(1024).max(8 * 1024 * 1024).default(256 * 1024),
  /** Where per-invocation and named workspaces of the command, git and file skills live (default: the tmpdir). */
  SKILL_WORKSPACE_ROOT: z.string().min(1).optional(),
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
