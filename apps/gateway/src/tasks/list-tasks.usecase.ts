import { Inject, Injectable } from '@nestjs/common';
import { ServiceRuntime } from '@steward/service-kit';
import { TASK_SUMMARY_COLUMNS, toTaskSummaryView } from './get-task.usecase.js';
import { after, NEWEST_FIRST, toPage } from './page-cursor.js';
import type { TaskListQuery, TaskListView } from './task.dto.js';

/** GET /v1/tasks: the tenant's tasks, newest first, filtered, a page at a time (keyset on createdAt and id). */
@Injectable()
export class ListTasksUseCase {
  constructor(@Inject(ServiceRuntime) private readonly runtime: ServiceRuntime) {}

  async execute(tenantId: string, q: TaskListQuery): Promise<TaskListView> {
    const rows = await this.runtime.prisma.task.findMany({
      where: {
        tenantId,
        ...(q.status ? { status: { in: q.status } } : {}),
        ...(q.kind ? { kind: q.kind } : {}),
        ...(q.skill ? { skill: q.skill } : {}),
        ...(q.workflow ? { workflowName: q.workflow } : {}),
        ...(q.sessionId ? { sessionId: q.sessionId } : {}),
        ...(q.createdAfter || q.createdBefore
          ? { createdAt: { ...(q.createdAfter ? { gt: new Date(q.createdAfter) } : {}), ...(q.createdBefore ? { lt: new Date(q.createdBefore) } : {}) } }
          : {}),
        ...after(q.cursor),
      },
      orderBy: NEWEST_FIRST,
      take: q.limit + 1,
      select: TASK_SUMMARY_COLUMNS,
    });
    const page = toPage(rows, q.limit);
    return { tasks: page.rows.map(toTaskSummaryView), nextCursor: page.nextCursor };
  }
}
