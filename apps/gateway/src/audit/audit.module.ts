import { Module } from '@nestjs/common';
import { AuditController } from './audit.controller.js';
import { AuditUseCase } from './audit.usecase.js';

@Module({ controllers: [AuditController], providers: [AuditUseCase], exports: [AuditUseCase] })
export class AuditModule {}
