import { Body, Controller, Headers, HttpCode, Inject, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { RequireScope } from '../auth/scopes.js';
import { parseOr400 } from '../http/api-error.js';
import { IdempotencyKey } from '../http/idempotency.js';
import { tenantOf } from '../http/tenant.js';
import { PublishEventBody, type EventAccepted } from './event.dto.js';
import { PublishEventUseCase } from './publish-event.usecase.js';

@Controller('v1/events')
export class EventsController {
  constructor(@Inject(PublishEventUseCase) private readonly publishEvent: PublishEventUseCase) {}

  @Post()
  @RequireScope('submit')
  @HttpCode(202)
  async publish(@Req() req: FastifyRequest, @Body() body: unknown, @Headers('idempotency-key') key: string | undefined): Promise<EventAccepted> {
    const tenantId = tenantOf(req);
    const parsed = parseOr400(PublishEventBody, body ?? {}, 'request body');
    const idempotencyKey = key === undefined ? undefined : parseOr400(IdempotencyKey, key, 'Idempotency-Key header');
    return this.publishEvent.execute(tenantId, parsed, idempotencyKey);
  }
}
