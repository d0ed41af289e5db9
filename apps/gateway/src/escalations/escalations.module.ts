import { Module } from '@nestjs/common';
import { EscalationsController } from './escalations.controller.js';
import { EscalationsUseCase } from './escalations.usecase.js';

@Module({ controllers: [EscalationsController], providers: [EscalationsUseCase] })
export class EscalationsModule {}
