import { Controller, Get, Inject, Param, Query, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { parseOr400 } from '../http/api-error.js';
import { tenantOf } from '../http/tenant.js';
import { AuditQuery, TaskEventsQuery, TaskId, type AuditPage, type TaskEventsPage } from './audit.dto.js';
import { AuditUseCase } from './audit.usecase.js';

@Controller('v1')
export class AuditController {
  constructor(@Inject(AuditUseCase) private readonly audit: AuditUseCase) {}

  /** Every event of one task of this tenant, in stream order, as CloudEvents. */
  @Get('tasks/:id/events')
  async taskEvents(@Req() req: FastifyRequest, @Param('id') id: string, @Query() query: unknown): Promise<TaskEventsPage> {
    return this.audit.taskEvents(tenantOf(req), parseOr400(TaskId, id, 'task id'), parseOr400(TaskEventsQuery, query ?? {}, 'query'));
  }

  /** This tenant's events from a stream sequence (or a time), optionally of some types. */
  @Get('audit/events')
  async tenantEvents(@Req() req: FastifyRequest, @Query() query: unknown): Promise<AuditPage> {
    return this.audit.tenantEvents(tenantOf(req), parseOr400(AuditQuery, query ?? {}, 'query'));
  }
}
