import { SkillCategory, SkillName } from '@steward/contracts';
import { z } from 'zod';

export { SkillName };

/** GET /v1/skills: text search over name and description, filters, and a cursor (the last name of the page before). */
export const SkillListQuery = z.strictObject({
  q: z.string().min(1).max(200).optional(),
  category: SkillCategory.optional(),
  kind: z.enum(['code', 'prompt']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: SkillName.optional(),
});
export type SkillListQuery = z.infer<typeof SkillListQuery>;

export interface SkillSummary {
  name: string;
  category: string;
  kind: string;
  description: string;
  sideEffects: string;
  timeoutMs: number;
}

export interface SkillView extends SkillSummary {
  inputSchema: unknown;
  outputSchema: unknown;
  updatedAt: string;
}
