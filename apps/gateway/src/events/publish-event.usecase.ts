import { Inject, Injectable } from '@nestjs/common';
import { makeEvent } from '@steward/contracts';
import { ServiceRuntime } from '@steward/service-kit';
import { randomUUID } from 'node:crypto';
import { derivedUuid } from '../http/idempotency.js';
import { publishOr503 } from '../http/publish.js';
import type { EventAccepted, PublishEventBody } from './event.dto.js';

/** Publishes `external.event.v1` for the tenant; the workflow-runner records it and resumes the steps waiting for it. */
@Injectable()
export class PublishEventUseCase {
  constructor(@Inject(ServiceRuntime) private readonly runtime: ServiceRuntime) {}

  async execute(tenantId: string, body: PublishEventBody, idempotencyKey?: string): Promise<EventAccepted> {
    const eventId = idempotencyKey === undefined ? randomUUID() : derivedUuid('external.event.v1', tenantId, body.name, body.key ?? '', idempotencyKey);
    const data = { eventId, tenantId, name: body.name, ...(body.key !== undefined ? { key: body.key } : {}), data: body.data ?? null };
    await publishOr503(this.runtime, makeEvent('external.event.v1', data, { source: 'steward/gateway', tenantId, correlationId: eventId, subject: body.name, id: eventId }));
    return { eventId };
  }
}
