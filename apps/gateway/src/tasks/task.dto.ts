import { JsonObject, SkillName, WorkflowName } from '@steward/contracts';
import { z } from 'zod';
import { PageCursor, PageLimit } from './page-cursor.js';

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

export const TASK_STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** `status=running` or `status=pending,running` (or the parameter repeated): any of these. */
const StatusList = z.preprocess((v) => (typeof v === 'string' ? v.split(',') : v), z.array(z.enum(TASK_STATUSES)).min(1).max(TASK_STATUSES.length));

/** GET /v1/tasks: filters (all optional, combined with AND) and the page. */
export const TaskListQuery = z
  .strictObject({
    status: StatusList.optional(),
    kind: z.enum(['skill', 'workflow']).optional(),
    skill: SkillName.optional(),
    workflow: WorkflowName.optional(),
    sessionId: z.string().min(1).max(128).optional(),
    /** Tasks created strictly after this instant. */
    createdAfter: z.iso.datetime({ offset: true }).optional(),
    /** Tasks created strictly before this instant. */
    createdBefore: z.iso.datetime({ offset: true }).optional(),
    limit: PageLimit,
    cursor: PageCursor.optional(),
  })
  .refine((q) => q.skill === undefined || q.workflow === undefined, { message: 'give at most one of "skill" or "workflow"', path: ['workflow'] })
  .refine((q) => q.skill === undefined || q.kind !== 'workflow', { message: '"skill" names single-skill tasks: it cannot go with kind=workflow', path: ['kind'] })
  .refine((q) => q.workflow === undefined || q.kind !== 'skill', { message: '"workflow" names workflow tasks: it cannot go with kind=skill', path: ['kind'] });
export type TaskListQuery = z.infer<typeof TaskListQuery>;

/** POST /v1/tasks/:id/cancel body (optional). */
export const CancelTaskBody = z.strictObject({ reason: z.string().min(1).max(2000).optional() });
export type CancelTaskBody = z.infer<typeof CancelTaskBody>;

/** A task in a list: everything but its input and output (read those with GET /v1/tasks/:id). */
export interface TaskSummaryView {
  taskId: string;
  status: TaskStatus;
  kind: 'skill' | 'workflow';
  skill?: string;
  workflow?: { name: string; version: number };
  sessionId?: string;
  error?: unknown;
  createdAt: string;
  startedAt?: string;
  completedAt?: string;
}

export interface TaskView extends TaskSummaryView {
  input: unknown;
  output?: unknown;
}

export interface TaskListView {
  tasks: TaskSummaryView[];
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

/**
 * POST /v1/tasks/:id/cancel: 202 with the status the task had and the command's id when the cancellation was sent
 * to the orchestrator; 200 with status `cancelled` (no requestId) when the task was already cancelled.
 */
export interface TaskCancelView {
  taskId: string;
  status: TaskStatus;
  requestId?: string;
}
