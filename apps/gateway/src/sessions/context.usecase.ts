import { Inject, Injectable } from '@nestjs/common';
import { ServiceRuntime } from '@steward/service-kit';
import { randomUUID } from 'node:crypto';
import { ApiError } from '../http/api-error.js';
import { notFound } from './sessions.usecase.js';
import { CONTEXT_VALUE_MAX_BYTES, type ContextEntryView, type ContextListQuery, type ContextListView, type PutContextBody } from './session.dto.js';

interface EntryRow {
  id: string;
  key: string;
  value: unknown;
  type: string;
  relevance: number;
  access_count: number;
  last_accessed_at: Date | null;
  expires_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/**
 * A session's context store: typed key/value entries with a relevance, an access count and an optional expiry.
 * Every statement joins the session on the tenant, so another tenant's session is simply not found. An expired entry
 * is treated as absent by every read and write; the rows themselves are purged when their session is written to and
 * by `purgeExpired` (a timer, see ContextPurger).
 */
@Injectable()
export class ContextUseCase {
  constructor(@Inject(ServiceRuntime) private readonly runtime: ServiceRuntime) {}

  /** Creates or replaces the entry (created: true when there was none, or only an expired one). Closed session: 409. */
  async put(tenantId: string, sessionId: string, key: string, body: PutContextBody): Promise<{ created: boolean; entry: ContextEntryView }> {
    const text = JSON.stringify(body.value);
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > CONTEXT_VALUE_MAX_BYTES) {
      throw new ApiError(413, 'value_too_large', `the value is ${bytes} bytes as JSON; a context entry holds at most ${CONTEXT_VALUE_MAX_BYTES}`);
    }
    const id = randomUUID();
    const ttl = body.ttlSeconds ?? null;
    // One statement: purge the session's expired entries, then upsert. An expired entry under this very key is left to
    // the upsert (a statement cannot both delete and update a row), which replaces it as new: fresh id, counts, creation time.
    const rows = await this.runtime.prisma.$queryRaw<EntryRow[]>`
      WITH purged AS (
        DELETE FROM context_entries AS c USING sessions AS s
         WHERE s.id = ${sessionId} AND s.tenant_id = ${tenantId} AND c.session_id = s.id AND c.expires_at <= now() AND c.key <> ${key}
      )
      INSERT INTO context_entries AS e (id, session_id, key, value, type, relevance, access_count, expires_at, created_at, updated_at)
      SELECT ${id}, s.id, ${key}, ${text}::jsonb, ${body.type}, ${body.relevance}::float8, 0, now() + ${ttl}::int * interval '1 second', now(), now()
        FROM sessions AS s
       WHERE s.id = ${sessionId} AND s.tenant_id = ${tenantId} AND s.status <> 'closed'
      ON CONFLICT (session_id, key) DO UPDATE SET
        value = EXCLUDED.value, type = EXCLUDED.type, relevance = EXCLUDED.relevance, expires_at = EXCLUDED.expires_at, updated_at = now(),
        id = CASE WHEN e.expires_at <= now() THEN EXCLUDED.id ELSE e.id END,
        access_count = CASE WHEN e.expires_at <= now() THEN 0 ELSE e.access_count END,
        last_accessed_at = CASE WHEN e.expires_at <= now() THEN NULL ELSE e.last_accessed_at END,
        created_at = CASE WHEN e.expires_at <= now() THEN now() ELSE e.created_at END
      RETURNING e.id, e.key, e.value, e.type, e.relevance, e.access_count, e.last_accessed_at, e.expires_at, e.created_at, e.updated_at`;
    const row = rows[0];
    if (!row) throw await this.whySessionRefused(tenantId, sessionId, 'write to');
    return { created: row.id === id, entry: toEntryView(row) };
  }

  /** Reads an entry and counts the read (accessCount + 1, lastAccessedAt now) in the same statement. Expired: 404. */
  async get(tenantId: string, sessionId: string, key: string): Promise<ContextEntryView> {
    const rows = await this.runtime.prisma.$queryRaw<EntryRow[]>`
      UPDATE context_entries AS e SET access_count = e.access_count + 1, last_accessed_at = now()
        FROM sessions AS s
       WHERE s.id = ${sessionId} AND s.tenant_id = ${tenantId} AND e.session_id = s.id AND e.key = ${key}
         AND (e.expires_at IS NULL OR e.expires_at > now())
      RETURNING e.id, e.key, e.value, e.type, e.relevance, e.access_count, e.last_accessed_at, e.expires_at, e.created_at, e.updated_at`;
    const row = rows[0];
    if (!row) throw await this.entryNotFound(tenantId, sessionId, key);
    return toEntryView(row);
  }

  /** The session's live entries, most relevant first, then most recently written or read. Not counted as reads. */
  async list(tenantId: string, sessionId: string, q: ContextListQuery): Promise<ContextListView> {
    const rows = await this.runtime.prisma.$queryRaw<EntryRow[]>`
      SELECT e.id, e.key, e.value, e.type, e.relevance, e.access_count, e.last_accessed_at, e.expires_at, e.created_at, e.updated_at
        FROM context_entries AS e JOIN sessions AS s ON s.id = e.session_id
       WHERE s.id = ${sessionId} AND s.tenant_id = ${tenantId}
         AND (e.expires_at IS NULL OR e.expires_at > now())
         AND e.relevance >= ${q.minRelevance ?? 0}::float8
         AND (${q.type ?? null}::text IS NULL OR e.type = ${q.type ?? null}::text)
       ORDER BY e.relevance DESC, GREATEST(e.updated_at, e.last_accessed_at) DESC, e.key
       LIMIT ${q.limit}`;
    if (rows.length === 0 && !(await this.sessionExists(tenantId, sessionId))) throw notFound(sessionId);
    return { sessionId, entries: rows.map(toEntryView) };
  }

  /** Deletes an entry; an expired one is deleted too but answers 404, as it was already gone. Closed session: 409. */
  async delete(tenantId: string, sessionId: string, key: string): Promise<void> {
    const rows = await this.runtime.prisma.$queryRaw<{ live: boolean }[]>`
      DELETE FROM context_entries AS e USING sessions AS s
       WHERE s.id = ${sessionId} AND s.tenant_id = ${tenantId} AND s.status <> 'closed' AND e.session_id = s.id AND e.key = ${key}
      RETURNING (e.expires_at IS NULL OR e.expires_at > now()) AS live`;
    if (rows[0]?.live) return;
    if (rows.length === 0) {
      const status = await this.sessionStatus(tenantId, sessionId);
      if (status === undefined) throw notFound(sessionId);
      if (status === 'closed') throw closed(sessionId, 'delete from');
    }
    throw new ApiError(404, 'not_found', `session ${sessionId} has no entry "${key}"`);
  }

  /** Deletes up to `max` expired entries of every tenant; returns how many. Uses the index on expires_at. */
  async purgeExpired(max = 10_000): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.runtime.prisma.$executeRaw`
        DELETE FROM context_entries WHERE id IN (SELECT id FROM context_entries WHERE expires_at <= now() LIMIT 1000)`;
      total += n;
      if (n < 1000 || total >= max) return total;
    }
  }

  private async sessionStatus(tenantId: string, sessionId: string): Promise<string | undefined> {
    return (await this.runtime.prisma.session.findFirst({ where: { id: sessionId, tenantId }, select: { status: true } }))?.status;
  }

  private async sessionExists(tenantId: string, sessionId: string): Promise<boolean> {
    return (await this.sessionStatus(tenantId, sessionId)) !== undefined;
  }

  private async whySessionRefused(tenantId: string, sessionId: string, verb: string): Promise<ApiError> {
    return (await this.sessionStatus(tenantId, sessionId)) === undefined ? notFound(sessionId) : closed(sessionId, verb);
  }

  private async entryNotFound(tenantId: string, sessionId: string, key: string): Promise<ApiError> {
    return (await this.sessionExists(tenantId, sessionId)) ? new ApiError(404, 'not_found', `session ${sessionId} has no entry "${key}"`) : notFound(sessionId);
  }
}

const closed = (sessionId: string, verb: string): ApiError => new ApiError(409, 'session_closed', `session ${sessionId} is closed: its context is read-only; nothing can ${verb} it`);

function toEntryView(r: EntryRow): ContextEntryView {
  return {
    key: r.key,
    value: r.value,
    type: r.type,
    relevance: r.relevance,
    accessCount: r.access_count,
    ...(r.last_accessed_at ? { lastAccessedAt: r.last_accessed_at.toISOString() } : {}),
    ...(r.expires_at ? { expiresAt: r.expires_at.toISOString() } : {}),
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}
