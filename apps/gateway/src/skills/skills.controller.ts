import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { parseOr400 } from '../http/api-error.js';
import { SkillListQuery, SkillName, type SkillSummary, type SkillView } from './skill.dto.js';
import { SkillsUseCase } from './skills.usecase.js';

@Controller('v1/skills')
export class SkillsController {
  constructor(@Inject(SkillsUseCase) private readonly skills: SkillsUseCase) {}

  @Get()
  async list(@Query() query: unknown): Promise<{ skills: SkillSummary[]; nextCursor?: string }> {
    return this.skills.list(parseOr400(SkillListQuery, query ?? {}, 'query'));
  }

  @Get(':name')
  async get(@Param('name') name: string): Promise<SkillView> {
    return this.skills.get(parseOr400(SkillName, name, 'skill name'));
  }
}
