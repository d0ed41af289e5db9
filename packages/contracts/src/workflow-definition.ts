// ─── Crosses the wire (API and files): the workflow definition format. Foundation subset: a sequential pipeline of
// skill steps; the full DAG engine extends it without breaking these documents. ───
import { z } from 'zod';
import { SkillName, WorkflowName } from './common.js';

export const WorkflowStepDefinition = z.object({
  id: z.string().regex(/^[a-z][a-z0-9_-]*$/, 'step ids are lowercase words').max(64),
  skill: SkillName,
  /** Milliseconds the skill may run; defaults to the skill's own timeout. */
  timeout_ms: z.number().int().positive().optional(),
});
export type WorkflowStepDefinition = z.infer<typeof WorkflowStepDefinition>;

export const WorkflowDefinition = z
  .object({
    name: WorkflowName,
    version: z.number().int().positive(),
    description: z.string().max(2000).optional(),
    /** Steps run in order; each receives the previous step's output (the first receives the workflow input). */
    steps: z.array(WorkflowStepDefinition).min(1).max(200),
  })
  .superRefine((d, ctx) => {
    const seen = new Set<string>();
    d.steps.forEach((s, i) => {
      if (seen.has(s.id)) ctx.addIssue({ code: 'custom', path: ['steps', i, 'id'], message: `duplicate step id ${s.id}` });
      seen.add(s.id);
    });
  });
export type WorkflowDefinition = z.infer<typeof WorkflowDefinition>;
