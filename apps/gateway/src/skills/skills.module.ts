import { Module } from '@nestjs/common';
import { SkillsController } from './skills.controller.js';
import { SkillsUseCase } from './skills.usecase.js';

@Module({ controllers: [SkillsController], providers: [SkillsUseCase] })
export class SkillsModule {}
