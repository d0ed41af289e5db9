import { JsonObject, SkillName, WorkflowName } from '@steward/contracts';
import { z } from 'zod';

/** POST /v1/tasks body: exactly one of `skill` or `workflow`. */
export const SubmitTaskBody = z
  .strictObject({
    skill: SkillName.optional(),
    workflow: WorkflowName.optional(),
    /** Pins a workflow version; the latest registered one otherwise. */
    version: z.number().int().positive().optional(),
    input: JsonObject.default({}),
    sessionId: z.string().min(1).max(128).optional(),
  })
  .refine((b) => (b.skill === undefined) !== (b.workflow === undefined), { message: 'give exactly one of "skill" or "workflow"', path: ['skill'] })
  .refine((b) => b.version === undefined || b.workflow !== undefined, { message: '"version" applies to workflows only', path: ['version'] });
export type SubmitTaskBody = z.infer<typeof SubmitTaskBody>;

export { IdempotencyKey } from '../http/idempotency.js';
export const TaskId = z.uuid();

export interface TaskView {
  taskId: string;
  status: 'pending' | 'running' | 'completed' | 'failed' | 'cancelled';
  kind: 'skill' | 'workflow';
  skill?: string;
  workflow?: { name: string; version: number };
  input: unknown;
  output?: unknown;
  error?: unknown;
  createdAt: string;
  startedAt?: string;
  completedAt?: string;
}
