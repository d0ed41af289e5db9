// steward skills … / steward workflows …: the skill catalogue and the workflow definitions.
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { Registered, Skill, SkillPage, WorkflowDocument, WorkflowList, WorkflowVersions, type SkillSummary } from '../api/schemas.js';
import type { Ctx } from '../context.js';
import { CliError, EXIT } from '../errors.js';
import { formatDuration, formatRelative, indentJson, table } from '../format.js';

export interface SkillListOptions {
  q?: string;
  category?: string;
  kind?: string;
  limit?: number;
  json?: boolean;
}

export async function listSkills(ctx: Ctx, o: SkillListOptions): Promise<void> {
  const client = await ctx.client();
  const out = ctx.out(o.json);
  const max = o.limit ?? Infinity;
  const skills: SkillSummary[] = [];
  let cursor: string | undefined;
  // Follow the cursor until the catalogue (or --limit) is exhausted.
  do {
    const page = await client.get('/v1/skills', SkillPage, { q: o.q, category: o.category, kind: o.kind, limit: Math.min(500, max - skills.length), cursor });
    skills.push(...page.skills);
    cursor = page.nextCursor;
  } while (cursor && skills.length < max);
  if (out.json) return out.data({ skills });
  if (skills.length === 0) return out.line('no skills match');
  const rows = skills.map((s) => [s.name, s.category, s.kind, s.description]);
  for (const l of table(['NAME', 'CATEGORY', 'KIND', 'DESCRIPTION'], rows, out.columns, out.style)) out.line(l);
  out.line(out.style.dim(`${skills.length} skill${skills.length === 1 ? '' : 's'}`));
}

export async function showSkill(ctx: Ctx, name: string, o: { json?: boolean }): Promise<void> {
  const client = await ctx.client();
  const out = ctx.out(o.json);
  const s = await client.get(`/v1/skills/${encodeURIComponent(name)}`, Skill);
  if (out.json) return out.data(s);
  const b = out.style.bold;
  out.line(`${b(s.name)}  ${out.style.dim(`${s.category} · ${s.kind} skill`)}`);
  out.line(s.description);
  out.line();
  out.line(`${b('Side effects')}  ${s.sideEffects}`);
  out.line(`${b('Timeout')}       ${formatDuration(s.timeoutMs)}`);
  out.line(`${b('Input')}         ${indentJson(s.inputSchema, '               ')}`);
  out.line(`${b('Output')}        ${indentJson(s.outputSchema, '               ')}`);
}

export async function listWorkflows(ctx: Ctx, o: { json?: boolean }): Promise<void> {
  const client = await ctx.client();
  const out = ctx.out(o.json);
  const { workflows } = await client.get('/v1/workflows', WorkflowList);
  if (out.json) return out.data({ workflows });
  if (workflows.length === 0) return out.line('no workflows registered');
  const now = ctx.now();
  const rows = workflows.map((w) => [w.name, String(w.version), w.tenant, w.inUse ? 'yes' : 'no', formatRelative(w.createdAt, now), w.description ?? '']);
  for (const l of table(['NAME', 'VERSION', 'OWNER', 'USED', 'REGISTERED', 'DESCRIPTION'], rows, out.columns, out.style)) out.line(l);
}

export async function showWorkflow(ctx: Ctx, name: string, o: { version?: number; json?: boolean }): Promise<void> {
  const client = await ctx.client();
  const out = ctx.out(o.json);
  const { versions } = await client.get(`/v1/workflows/${encodeURIComponent(name)}`, WorkflowVersions);
  const version = o.version ?? Math.max(...versions.map((v) => v.version));
  if (!Number.isFinite(version)) throw new CliError(`workflow ${name} has no versions`, EXIT.failed);
  const doc = await client.get(`/v1/workflows/${encodeURIComponent(name)}/versions/${version}`, WorkflowDocument);
  if (out.json) return out.data({ ...doc, versions: versions.map((v) => v.version) });
  const b = out.style.bold;
  out.line(`${b(`${doc.name}@${doc.version}`)}  ${out.style.dim(`owner ${doc.tenant} · versions ${versions.map((v) => v.version).join(', ')}`)}`);
  if (doc.description) out.line(doc.description);
  out.line(`${b('Registered')}  ${doc.createdAt} (${formatRelative(doc.createdAt, ctx.now())})`);
  out.line(`${b('In use')}      ${doc.inUse ? `yes, since ${doc.firstUsedAt ?? '?'} (immutable)` : 'no'}`);
  out.line(`${b('Hash')}        ${doc.hash}`);
  out.line(`${b('Definition')}  ${indentJson(doc.definition, '             ')}`);
}

const YAML_EXT = new Set(['.yaml', '.yml']);

export async function registerWorkflow(ctx: Ctx, file: string, o: { json?: boolean }): Promise<void> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, EXIT.usage);
  }
  const yaml = YAML_EXT.has(extname(file).toLowerCase()) || (extname(file).toLowerCase() !== '.json' && !/^\s*[{[]/.test(text));
  const client = await ctx.client();
  const out = ctx.out(o.json);
  const res = await client.request('POST', '/v1/workflows', { schema: Registered, body: text, contentType: yaml ? 'application/yaml' : 'application/json' });
  const r = res.data;
  if (out.json) return out.data(r);
  const verb = r.status === 'unchanged' ? 'already registered, unchanged' : r.status;
  out.line(`${out.style.green('✓')} ${out.style.bold(`${r.name}@${r.version}`)} ${verb}`);
  out.line(out.style.dim(`  run it with: steward submit ${r.name} --workflow --input '{…}'`));
}
