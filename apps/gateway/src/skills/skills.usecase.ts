import { Inject, Injectable } from '@nestjs/common';
import { ServiceRuntime } from '@steward/service-kit';
import type { Prisma } from '@steward/state';
import { ApiError } from '../http/api-error.js';
import type { SkillListQuery, SkillSummary, SkillView } from './skill.dto.js';

const summary = { name: true, category: true, kind: true, description: true, sideEffects: true, timeoutMs: true } satisfies Prisma.SkillSelect;

/** The skill catalogue the workers publish at start-up: listed, searched and read with its schemas. */
@Injectable()
export class SkillsUseCase {
  constructor(@Inject(ServiceRuntime) private readonly runtime: ServiceRuntime) {}

  async list(q: SkillListQuery): Promise<{ skills: SkillSummary[]; nextCursor?: string }> {
    const words = q.q?.split(/\s+/).filter(Boolean) ?? [];
    const rows = await this.runtime.prisma.skill.findMany({
      where: {
        ...(q.category ? { category: q.category } : {}),
        ...(q.kind ? { kind: q.kind } : {}),
        ...(q.cursor ? { name: { gt: q.cursor } } : {}),
        // Every word must occur in the name or the description (case-insensitive).
        AND: words.map((w) => ({ OR: [{ name: { contains: w, mode: 'insensitive' as const } }, { description: { contains: w, mode: 'insensitive' as const } }] })),
      },
      select: summary,
      orderBy: { name: 'asc' },
      take: q.limit + 1,
    });
    const page = rows.slice(0, q.limit);
    return { skills: page, ...(rows.length > q.limit ? { nextCursor: page.at(-1)!.name } : {}) };
  }

  async get(name: string): Promise<SkillView> {
    const s = await this.runtime.prisma.skill.findUnique({ where: { name } });
    if (!s) throw new ApiError(404, 'not_found', `no skill named ${name}`);
    return { name: s.name, category: s.category, kind: s.kind, description: s.description, sideEffects: s.sideEffects, timeoutMs: s.timeoutMs, inputSchema: s.inputSchema, outputSchema: s.outputSchema, updatedAt: s.updatedAt.toISOString() };
  }
}
