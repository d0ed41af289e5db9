// Registering definitions: through the gateway API (a tenant's own) and from a directory at start-up (shared,
// tenant `system`). A version is immutable once a run has used it: changing it then is refused.
import { json, type PrismaClient } from '@steward/state';
import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { compileDefinition, type CompileContext, type CompiledWorkflow, type DefinitionIssue } from './compile.js';
import { MAX_DEFINITION_DEPTH, lineAndColumn, yamlTooDeepAt } from './yaml-depth.js';

export const SYSTEM_TENANT = 'system';

export type RegisterResult =
  | { ok: true; status: 'registered' | 'updated' | 'unchanged'; id: string; name: string; version: number }
  | { ok: false; reason: 'invalid'; issues: DefinitionIssue[] }
  | { ok: false; reason: 'immutable'; message: string };

/** Parses definition text as YAML (a superset of JSON). Throws with the parser's position on bad syntax. */
export function parseDefinitionText(text: string): unknown {
  // Before the parser: nesting deep enough to overflow its recursion can crash the process (see yaml-depth.ts).
  const tooDeep = yamlTooDeepAt(text);
  if (tooDeep !== undefined) {
    const { line, column } = lineAndColumn(text, tooDeep);
    throw new Error(`the YAML nests deeper than ${MAX_DEFINITION_DEPTH} levels (at line ${line}, column ${column})`);
  }
  return parseYaml(text, { prettyErrors: true, maxAliasCount: 100 });
}

/** What the compiler checks against: the skills catalogue and the registered workflow names. */
export async function loadCompileContext(prisma: PrismaClient, tenantId: string, alsoWorkflows: Iterable<string> = []): Promise<Required<CompileContext>> {
  const [skills, workflows] = await Promise.all([
    prisma.skill.findMany({ select: { name: true, inputSchema: true } }),
    prisma.workflowDefinition.findMany({ where: { tenantId: { in: [tenantId, SYSTEM_TENANT] } }, select: { name: true }, distinct: ['name'] }),
  ]);
  return {
    skills: new Map(skills.map((s) => [s.name, { required: requiredFields(s.inputSchema) }])),
    workflows: new Set([...workflows.map((w) => w.name), ...alsoWorkflows]),
  };
}

function requiredFields(schema: unknown): string[] {
  const r = (schema as { required?: unknown } | null)?.required;
  return Array.isArray(r) ? r.filter((x): x is string => typeof x === 'string') : [];
}

export const definitionHash = (workflow: CompiledWorkflow): string => createHash('sha256').update(JSON.stringify(workflow.document)).digest('hex');

/** Validates and stores one definition document for a tenant. */
export async function registerDefinition(prisma: PrismaClient, raw: unknown, tenantId: string, world?: CompileContext): Promise<RegisterResult> {
  const compiled = compileDefinition(raw, world ?? (await loadCompileContext(prisma, tenantId)));
  if (!compiled.ok) return { ok: false, reason: 'invalid', issues: compiled.issues };
  const wf = compiled.workflow;
  const hash = definitionHash(wf);
  const key = { tenantId_name_version: { tenantId, name: wf.name, version: wf.version } };
  const existing = await prisma.workflowDefinition.findUnique({ where: key, select: { id: true, hash: true, firstUsedAt: true } });
  const ref = { name: wf.name, version: wf.version };
  if (existing?.hash === hash) return { ok: true, status: 'unchanged', id: existing.id, ...ref };
  const immutable = { ok: false as const, reason: 'immutable' as const, message: `${wf.name}@${wf.version} has been used by runs and cannot change; register it as version ${wf.version + 1}` };
  if (existing) {
    // Conditional on first_used_at: a run that pins the version concurrently wins.
    const { count } = await prisma.workflowDefinition.updateMany({ where: { id: existing.id, firstUsedAt: null }, data: { definition: json(wf.document), hash } });
    return count === 1 ? { ok: true, status: 'updated', id: existing.id, ...ref } : immutable;
  }
  const id = randomUUID();
  const created = await prisma.workflowDefinition.createMany({ data: [{ id, tenantId, name: wf.name, version: wf.version, definition: json(wf.document), hash }], skipDuplicates: true });
  if (created.count === 1) return { ok: true, status: 'registered', id, ...ref };
  return registerDefinition(prisma, raw, tenantId, world); // registered concurrently: compare with it
}

export interface DirectoryReport {
  registered: string[];
  unchanged: string[];
  refused: { file: string; reason: string }[];
  /** Registered although they name skills no worker has registered yet (workers deploy on their own). */
  waitingForSkills: { file: string; skills: string[] }[];
}

/** Registers every `*.yaml`, `*.yml` and `*.json` definition in a directory as shared (system) definitions. */
export async function registerDefinitionsFromDir(prisma: PrismaClient, dir: string): Promise<DirectoryReport> {
  const report: DirectoryReport = { registered: [], unchanged: [], refused: [], waitingForSkills: [] };
  const files = (await readdir(dir)).filter((f) => ['.yaml', '.yml', '.json'].includes(extname(f))).sort();
  const docs: { file: string; raw: unknown }[] = [];
  for (const file of files) {
    try {
      docs.push({ file, raw: parseDefinitionText(await readFile(join(dir, file), 'utf8')) });
    } catch (err) {
      report.refused.push({ file, reason: `not parseable: ${(err as Error).message}` });
    }
  }
  // Children may be defined in the same directory: their names count as known.
  const names = docs.map((d) => (d.raw as { name?: unknown } | null)?.name).filter((n): n is string => typeof n === 'string');
  const world = await loadCompileContext(prisma, SYSTEM_TENANT, names);
  const { skills: _skills, ...withoutSkills } = world;
  for (const { file, raw } of docs) {
    // Definitions shipped with a deployment may name skills of workers that have not started yet: registered, and
    // said; a run reaching such a step parks it with unknown_skill until the skill exists. (The API is strict.)
    const checked = compileDefinition(raw, world);
    const unknown = checked.ok ? [] : checked.issues.filter((i) => i.code === 'unknown_skill');
    const onlySkills = !checked.ok && unknown.length === checked.issues.length;
    if (onlySkills) report.waitingForSkills.push({ file, skills: unknown.map((i) => i.message.replace(/^.* unknown skill /, '')) });
    const r = await registerDefinition(prisma, raw, SYSTEM_TENANT, onlySkills ? withoutSkills : world);
    if (r.ok) (r.status === 'unchanged' ? report.unchanged : report.registered).push(`${r.name}@${r.version}`);
    else report.refused.push({ file, reason: r.reason === 'invalid' ? r.issues.map((i) => i.message).join('; ') : r.message });
  }
  return report;
}
