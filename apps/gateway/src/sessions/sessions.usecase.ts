import { Inject, Injectable } from '@nestjs/common';
import { ServiceRuntime } from '@steward/service-kit';
import type { Session } from '@steward/state';
import { randomUUID } from 'node:crypto';
import { ApiError } from '../http/api-error.js';
import { after, NEWEST_FIRST, toPage } from '../tasks/page-cursor.js';
import { SESSION_ACTIONS, type CreateSessionBody, type SessionAction, type SessionDetailView, type SessionListQuery, type SessionListView, type SessionView } from './session.dto.js';

/**
 * Sessions: a tenant's long-lived containers of related tasks and of context entries (the original design's
 * multi-day sessions). Tasks are submitted into an active session only; a paused one can be resumed; closed is final.
 */
@Injectable()
export class SessionsUseCase {
  constructor(@Inject(ServiceRuntime) private readonly runtime: ServiceRuntime) {}

  async create(tenantId: string, body: CreateSessionBody): Promise<SessionView> {
    return toSessionView(await this.runtime.prisma.session.create({ data: { id: randomUUID(), tenantId, title: body.title } }));
  }

  async list(tenantId: string, q: SessionListQuery): Promise<SessionListView> {
    const rows = await this.runtime.prisma.session.findMany({
      where: { tenantId, ...(q.status ? { status: { in: q.status } } : {}), ...after(q.cursor) },
      orderBy: NEWEST_FIRST,
      take: q.limit + 1,
    });
    const page = toPage(rows, q.limit);
    return { sessions: page.rows.map(toSessionView), nextCursor: page.nextCursor };
  }

  async get(tenantId: string, sessionId: string): Promise<SessionDetailView> {
    const s = await this.runtime.prisma.session.findFirst({
      where: { id: sessionId, tenantId },
      include: { _count: { select: { tasks: true, entries: { where: { OR: [{ expiresAt: null }, { expiresAt: { gt: new Date() } }] } } } } },
    });
    if (!s) throw notFound(sessionId);
    return { ...toSessionView(s), counts: { tasks: s._count.tasks, entries: s._count.entries } };
  }

  /**
   * pause, resume or close, as one conditional update (two concurrent requests cannot both change it). Asking for
   * the state the session is already in answers it unchanged; a transition the state machine does not have is 409.
   */
  async transition(tenantId: string, sessionId: string, action: SessionAction): Promise<SessionView> {
    const { from, to } = SESSION_ACTIONS[action];
    const now = new Date();
    await this.runtime.prisma.session.updateMany({
      where: { id: sessionId, tenantId, status: { in: [...from] } },
      data: { status: to, updatedAt: now, ...(to === 'closed' ? { closedAt: now } : {}) },
    });
    const s = await this.runtime.prisma.session.findFirst({ where: { id: sessionId, tenantId } });
    if (!s) throw notFound(sessionId);
    if (s.status !== to) {
      const why = s.status === 'closed' ? 'closed is final' : `only a session that is ${from.join(' or ')} can be ${action === 'pause' ? 'paused' : action === 'resume' ? 'resumed' : 'closed'}`;
      throw new ApiError(409, 'illegal_transition', `session ${sessionId} is ${s.status}: ${why}`);
    }
    return toSessionView(s);
  }
}

export const notFound = (sessionId: string): ApiError => new ApiError(404, 'not_found', `session ${sessionId} not found`);

export function toSessionView(s: Session): SessionView {
  return {
    id: s.id,
    title: s.title,
    status: s.status,
    createdAt: s.createdAt.toISOString(),
    updatedAt: s.updatedAt.toISOString(),
    ...(s.closedAt ? { closedAt: s.closedAt.toISOString() } : {}),
  };
}
