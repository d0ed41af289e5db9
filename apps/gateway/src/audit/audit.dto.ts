import { Envelope } from '@steward/contracts';
import { z } from 'zod';
import { isEventSelector } from './event-log.js';

export const TaskId = z.uuid();

/** A stream sequence used as a cursor: the last sequence seen (reading resumes after it). */
export const Sequence = z.coerce.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** `types=a,b` (or `types=a&types=b`): event names (`task.completed`, any version) or full types (`steward.task.completed.v1`). */
export const EventSelectors = z
  .preprocess((v) => (Array.isArray(v) ? v.join(',') : v), z.string().max(2000))
  .transform((s) => s.split(',').map((t) => t.trim()).filter((t) => t.length > 0))
  .pipe(z.array(z.string().refine(isEventSelector, { error: 'not an event of the audit stream (e.g. task.completed or steward.task.completed.v1)' })).max(50));

/** GET /v1/audit/events */
export const AuditQuery = z
  .strictObject({
    after: Sequence.optional(),
    since: z.iso.datetime({ offset: true }).optional(),
    types: EventSelectors.optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .refine((q) => q.after === undefined || q.since === undefined, { message: 'give either after or since, not both', path: ['since'] });
export type AuditQuery = z.infer<typeof AuditQuery>;

/** GET /v1/tasks/:id/events */
export const TaskEventsQuery = z.strictObject({
  after: Sequence.optional(),
  limit: z.coerce.number().int().min(1).max(5000).default(1000),
});
export type TaskEventsQuery = z.infer<typeof TaskEventsQuery>;

/** One event of the audit trail: its sequence in the event stream and the CloudEvent exactly as stored. */
export const AuditItem = z.object({
  sequence: z.number().int().positive().describe('The stream sequence of the event (the cursor, and the SSE id).'),
  event: Envelope.describe('The CloudEvent as stored in the event stream.'),
});
export type AuditItem = z.infer<typeof AuditItem>;

/** A page of the audit trail; `next` is the cursor for `after` (the last sequence examined), `more` says whether to ask again. */
export const AuditPage = z.object({
  events: z.array(AuditItem),
  next: z.number().int().nonnegative().describe('Pass as `after` to continue: the last stream sequence examined.'),
  more: z.boolean().describe('True when the read stopped (page size or scan budget) before the end of the stream.'),
});
export type AuditPage = z.infer<typeof AuditPage>;

export const TaskEventsPage = AuditPage.extend({ taskId: z.string() });
export type TaskEventsPage = z.infer<typeof TaskEventsPage>;
