// ─── Crosses the wire: shared value shapes used inside event data. ───
import { z } from 'zod';

export const Id = z.string().min(1).max(128);
export const JsonObject = z.record(z.string(), z.unknown());
export type JsonObject = z.infer<typeof JsonObject>;

/** Skill names: lowercase dotted/dashed words, e.g. `echo`, `dev.run-tests`. */
export const SkillName = z.string().regex(/^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$/, 'skill names are lowercase words joined by dots or dashes').max(100);
/** Skill categories route invocations to worker pools: one subject token, no dots. */
export const SkillCategory = z.string().regex(/^[a-z][a-z0-9-]*$/).max(40);
export const WorkflowName = z.string().regex(/^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$/).max(100);

export const ErrorInfo = z.object({
  code: z.string().min(1),
  message: z.string(),
  retryable: z.boolean().default(false),
  details: z.unknown().optional(),
});
export type ErrorInfo = z.infer<typeof ErrorInfo>;

/** Who asked for a skill invocation; its results are published on a subject carrying this token. */
export const Requester = z.enum(['orchestrator', 'workflow-runner']);
export type Requester = z.infer<typeof Requester>;
