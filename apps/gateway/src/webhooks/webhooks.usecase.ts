import { Inject, Injectable } from '@nestjs/common';
import { ServiceRuntime } from '@steward/service-kit';
import type { Webhook } from '@steward/state';
import { randomUUID } from 'node:crypto';
import type { GatewayConfig } from '../config.js';
import { ApiError } from '../http/api-error.js';
import { staticRefusal } from './destination.js';
import { newWebhookSecret } from './signature.js';
import { WebhookDeliverer } from './webhook-deliverer.js';
import type { CreateWebhookBody, CreatedWebhook, WebhookList, WebhookView } from './webhook.dto.js';

/** Endpoints a tenant may register. */
export const MAX_WEBHOOKS_PER_TENANT = 25;

/** A tenant's webhook endpoints: register (the signing secret is returned once), list (never the secret), delete. */
@Injectable()
export class WebhooksUseCase {
  constructor(
    @Inject(ServiceRuntime) private readonly runtime: ServiceRuntime<GatewayConfig>,
    @Inject(WebhookDeliverer) private readonly deliverer: WebhookDeliverer,
  ) {}

  async create(tenantId: string, body: CreateWebhookBody): Promise<CreatedWebhook> {
    const refused = staticRefusal(new URL(body.url), this.runtime.config.WEBHOOK_ALLOW_PRIVATE);
    if (refused) throw new ApiError(400, 'invalid_request', 'request body is invalid', [{ path: ['url'], message: refused }]);
    const count = await this.runtime.prisma.webhook.count({ where: { tenantId } });
    if (count >= MAX_WEBHOOKS_PER_TENANT) throw new ApiError(409, 'too_many_webhooks', `a tenant has at most ${MAX_WEBHOOKS_PER_TENANT} webhooks; delete one first`);
    const secret = newWebhookSecret();
    const row = await this.runtime.prisma.webhook.create({ data: { id: randomUUID(), tenantId, url: body.url, events: body.events, description: body.description, secret } });
    await this.deliverer.changed(tenantId);
    this.runtime.log.info({ tenantId, webhookId: row.id, events: row.events }, 'webhook registered');
    return { ...toView(row), secret };
  }

  async list(tenantId: string): Promise<WebhookList> {
    const rows = await this.runtime.prisma.webhook.findMany({ where: { tenantId }, orderBy: { createdAt: 'asc' } });
    return { webhooks: rows.map(toView) };
  }

  async remove(tenantId: string, id: string): Promise<void> {
    const { count } = await this.runtime.prisma.webhook.deleteMany({ where: { id, tenantId } });
    if (count === 0) throw new ApiError(404, 'not_found', `webhook ${id} not found`);
    await this.deliverer.changed(tenantId);
    this.runtime.log.info({ tenantId, webhookId: id }, 'webhook deleted');
  }
}

function toView(w: Webhook): WebhookView {
  return {
    id: w.id,
    url: w.url,
    events: w.events,
    description: w.description,
    createdAt: w.createdAt.toISOString(),
    lastDelivery:
      w.lastAttemptAt === null
        ? null
        : {
            at: w.lastAttemptAt.toISOString(),
            status: (w.lastStatus ?? 'failed') as NonNullable<WebhookView['lastDelivery']>['status'],
            statusCode: w.lastStatusCode,
            error: w.lastError,
            eventId: w.lastEventId,
            lastSuccessAt: w.lastSuccessAt?.toISOString() ?? null,
            consecutiveFailures: w.consecutiveFailures,
          },
  };
}
