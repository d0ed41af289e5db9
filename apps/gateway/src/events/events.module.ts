import { Module } from '@nestjs/common';
import { EventsController } from './events.controller.js';
import { PublishEventUseCase } from './publish-event.usecase.js';

@Module({ controllers: [EventsController], providers: [PublishEventUseCase] })
export class EventsModule {}
