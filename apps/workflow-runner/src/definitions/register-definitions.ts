import { WorkflowDefinition } from '@steward/contracts';
import type { PrismaClient } from '@steward/state';
import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';

export interface RegisterReport {
  registered: string[];
  unchanged: string[];
  refused: { file: string; reason: string }[];
}

/**
 * Registers every definition file in `dir` as a system workflow. A definition is immutable once a run used it:
 * a changed file under a used name+version is refused (bump the version instead).
 */
export async function registerDefinitions(prisma: PrismaClient, dir: string): Promise<RegisterReport> {
  const report: RegisterReport = { registered: [], unchanged: [], refused: [] };
  const files = (await readdir(dir)).filter((f) => ['.yaml', '.yml', '.json'].includes(extname(f))).sort();
  for (const file of files) {
    const text = await readFile(join(dir, file), 'utf8');
    let raw: unknown;
    try {
      raw = extname(file) === '.json' ? JSON.parse(text) : parseYaml(text);
    } catch (err) {
      report.refused.push({ file, reason: `not parseable: ${(err as Error).message}` });
      continue;
    }
    const parsed = WorkflowDefinition.safeParse(raw);
    if (!parsed.success) {
      report.refused.push({ file, reason: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
      continue;
    }
    const def = parsed.data;
    const hash = createHash('sha256').update(JSON.stringify(def)).digest('hex');
    const key = { tenantId_name_version: { tenantId: 'system', name: def.name, version: def.version } };
    const existing = await prisma.workflowDefinition.findUnique({ where: key });
    if (existing?.hash === hash) {
      report.unchanged.push(`${def.name}@${def.version}`);
    } else if (existing?.firstUsedAt) {
      report.refused.push({ file, reason: `${def.name}@${def.version} changed after runs used it; give it a new version` });
    } else {
      await prisma.workflowDefinition.upsert({
        where: key,
        create: { id: randomUUID(), tenantId: 'system', name: def.name, version: def.version, definition: def, hash },
        update: { definition: def, hash },
      });
      report.registered.push(`${def.name}@${def.version}`);
    }
  }
  return report;
}
