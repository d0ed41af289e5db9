import type { PrismaClient } from '@steward/state';
import { z } from 'zod';
import type { CodeSkill } from './skill.js';

/** Publishes this worker's skills to the catalogue table the gateway and the dispatchers read. */
export async function registerSkills(prisma: PrismaClient, skills: readonly CodeSkill[]): Promise<void> {
  for (const s of skills) {
    const row = {
      category: s.category,
      description: s.description,
      kind: s.kind ?? 'code',
      sideEffects: s.sideEffects,
      timeoutMs: s.timeoutMs,
      inputSchema: z.toJSONSchema(s.input, { unrepresentable: 'any', io: 'input' }) as object,
      outputSchema: z.toJSONSchema(s.output, { unrepresentable: 'any' }) as object,
    };
    await prisma.skill.upsert({ where: { name: s.name }, create: { name: s.name, ...row }, update: row });
  }
}
