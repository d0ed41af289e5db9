import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { RequireScope } from '../auth/scopes.js';
import { parseOr400 } from '../http/api-error.js';
import { tenantOf } from '../http/tenant.js';
import { CreateWebhookBody, WebhookId, type CreatedWebhook, type WebhookList } from './webhook.dto.js';
import { WebhooksUseCase } from './webhooks.usecase.js';

@Controller('v1/webhooks')
@RequireScope('admin')
export class WebhooksController {
  constructor(@Inject(WebhooksUseCase) private readonly webhooks: WebhooksUseCase) {}

  @Post()
  @HttpCode(201)
  async create(@Req() req: FastifyRequest, @Body() body: unknown): Promise<CreatedWebhook> {
    return this.webhooks.create(tenantOf(req), parseOr400(CreateWebhookBody, body ?? {}, 'request body'));
  }

  @Get()
  async list(@Req() req: FastifyRequest): Promise<WebhookList> {
    return this.webhooks.list(tenantOf(req));
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@Req() req: FastifyRequest, @Param('id') id: string): Promise<void> {
    await this.webhooks.remove(tenantOf(req), parseOr400(WebhookId, id, 'webhook id'));
  }
}
