import { Module } from '@nestjs/common';
import { WebhookDeliverer } from './webhook-deliverer.js';
import { WebhooksController } from './webhooks.controller.js';
import { WebhooksUseCase } from './webhooks.usecase.js';

@Module({ controllers: [WebhooksController], providers: [WebhookDeliverer, WebhooksUseCase] })
export class WebhooksModule {}
