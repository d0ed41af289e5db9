import type { SessionStatus } from '@steward/state';
import { z } from 'zod';
import { PageCursor, PageLimit } from '../tasks/page-cursor.js';

export const SessionId = z.uuid();

/** POST /v1/sessions body. */
export const CreateSessionBody = z.strictObject({ title: z.string().trim().min(1).max(200) });
export type CreateSessionBody = z.infer<typeof CreateSessionBody>;

export const SESSION_STATUSES = ['active', 'paused', 'closed'] as const;

/** GET /v1/sessions: `status=active` or `status=active,paused` (or the parameter repeated), and the page. */
export const SessionListQuery = z.strictObject({
  status: z.preprocess((v) => (typeof v === 'string' ? v.split(',') : v), z.array(z.enum(SESSION_STATUSES)).min(1).max(SESSION_STATUSES.length)).optional(),
  limit: PageLimit,
  cursor: PageCursor.optional(),
});
export type SessionListQuery = z.infer<typeof SessionListQuery>;

/** The state machine: active ⇄ paused → closed (from either); closed is final. */
export const SESSION_ACTIONS = {
  pause: { from: ['active'], to: 'paused' },
  resume: { from: ['paused'], to: 'active' },
  close: { from: ['active', 'paused'], to: 'closed' },
} as const satisfies Record<string, { from: readonly SessionStatus[]; to: SessionStatus }>;
export type SessionAction = keyof typeof SESSION_ACTIONS;

/**
 * A context key in the URL: letters, digits and `. _ : @ -`, starting with a letter or digit; at most 100 characters
 * (the router's limit on a path parameter: a longer one is answered 414 before it gets here).
 */
export const ContextKey = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:@-]*$/, 'letters, digits and . _ : @ - (starting with a letter or digit)').max(100);

/** Largest `value` of a context entry, as JSON text (UTF-8). */
export const CONTEXT_VALUE_MAX_BYTES = 64 * 1024;
/** Longest time to live: ten years. */
const TTL_MAX_SECONDS = 10 * 366 * 24 * 3600;

/** PUT /v1/sessions/:id/context/:key body: the whole entry (what is left out takes its default, it is not kept). */
export const PutContextBody = z.strictObject({
  value: z.json(),
  /** What kind of context this is, for the reader (e.g. `fact`, `preference`, `summary`). */
  type: z.string().regex(/^[A-Za-z][A-Za-z0-9._-]*$/, 'a word: letters, digits and . _ -, starting with a letter').max(64).default('general'),
  relevance: z.number().min(0).max(1).default(0.5),
  /** Seconds from now until the entry expires; without it, it never does. */
  ttlSeconds: z.number().int().min(1).max(TTL_MAX_SECONDS).optional(),
});
export type PutContextBody = z.infer<typeof PutContextBody>;

/** GET /v1/sessions/:id/context: the most relevant entries first. */
export const ContextListQuery = z.strictObject({
  minRelevance: z.coerce.number().min(0).max(1).optional(),
  type: PutContextBody.shape.type.unwrap().optional(),
  limit: PageLimit,
});
export type ContextListQuery = z.infer<typeof ContextListQuery>;

export interface SessionView {
  id: string;
  title: string;
  status: SessionStatus;
  createdAt: string;
  updatedAt: string;
  closedAt?: string;
}

export interface SessionDetailView extends SessionView {
  /** Tasks submitted into the session (any status), and its context entries that have not expired. */
  counts: { tasks: number; entries: number };
}

export interface SessionListView {
  sessions: SessionView[];
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

export interface ContextEntryView {
  key: string;
  value: unknown;
  type: string;
  relevance: number;
  /** Reads of this entry by GET /v1/sessions/:id/context/:key (this one included, when it is the answer to one). */
  accessCount: number;
  lastAccessedAt?: string;
  expiresAt?: string;
  createdAt: string;
  updatedAt: string;
}

export interface ContextListView {
  sessionId: string;
  entries: ContextEntryView[];
}
