import { Inject, Injectable } from '@nestjs/common';
import { ServiceRuntime } from '@steward/service-kit';
import type { GatewayConfig } from '../config.js';
import { ApiError } from '../http/api-error.js';
import type { AuditItem, AuditPage, AuditQuery, TaskEventsPage, TaskEventsQuery } from './audit.dto.js';
import { EventLog, subjectFilterFor, typeSelected, type ScanOptions } from './event-log.js';

/**
 * The audit trail, read from the retained event stream itself: a task's events, and a tenant's events from a
 * sequence or a time, optionally of some types. Every read is bounded (a page size and a number of stream messages
 * examined) and answers with a cursor to continue.
 */
@Injectable()
export class AuditUseCase {
  readonly log: EventLog;

  constructor(@Inject(ServiceRuntime) private readonly runtime: ServiceRuntime<GatewayConfig>) {
    this.log = new EventLog(runtime.bus);
  }

  /** Where a task's events begin: the first stream message stored at or after its creation (less the clock skew allowance). */
  taskStart(createdAt: Date): Date {
    return new Date(createdAt.getTime() - this.runtime.config.AUDIT_CLOCK_SKEW_MS);
  }

  async taskEvents(tenantId: string, taskId: string, q: TaskEventsQuery): Promise<TaskEventsPage> {
    const task = await this.runtime.prisma.task.findFirst({ where: { id: taskId, tenantId }, select: { createdAt: true } });
    if (!task) throw new ApiError(404, 'not_found', `task ${taskId} not found`);
    const page = await this.page(q.limit, {
      ...(q.after !== undefined ? { fromSeq: q.after + 1 } : { fromTime: this.taskStart(task.createdAt) }),
      needles: [JSON.stringify(taskId)],
      match: (e) => e.correlationid === taskId && e.tenantid === tenantId,
    });
    return { taskId, ...page };
  }

  async tenantEvents(tenantId: string, q: AuditQuery): Promise<AuditPage> {
    const types = q.types ?? [];
    return this.page(q.limit, {
      ...(q.since !== undefined ? { fromTime: new Date(q.since) } : { fromSeq: (q.after ?? 0) + 1 }),
      ...(types.length === 1 ? { filterSubject: this.runtime.bus.wireSubject(subjectFilterFor(types[0]!)) } : {}),
      needles: [JSON.stringify(tenantId)],
      match: (e) => e.tenantid === tenantId && (types.length === 0 || typeSelected(e.type, types)),
    });
  }

  private async page(limit: number, o: Omit<ScanOptions, 'onEvent' | 'maxExamined'>): Promise<AuditPage> {
    const events: AuditItem[] = [];
    try {
      const r = await this.log.scan({
        ...o,
        maxExamined: this.runtime.config.AUDIT_SCAN_MAX_MESSAGES,
        onEvent: (e) => {
          events.push({ sequence: e.sequence, event: e.event });
          return events.length < limit;
        },
      });
      return { events, next: r.lastExamined, more: !r.reachedEnd };
    } catch (err) {
      this.runtime.log.warn({ err }, 'reading the event stream failed');
      throw new ApiError(503, 'unavailable', 'the event stream could not be read; retry');
    }
  }
}
