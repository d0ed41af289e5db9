import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { LiveController } from './live.controller.js';
import { LiveUseCase } from './live.usecase.js';

@Module({ imports: [AuditModule], controllers: [LiveController], providers: [LiveUseCase] })
export class LiveModule {}
