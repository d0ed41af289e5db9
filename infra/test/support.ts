// Shared by the infra tests: the repository's services and their config schemas, and small parsers (compose
// interpolation, label selectors, PromQL metric names, the metrics catalogue in docs/metrics.md).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { z } from 'zod';
import { EscalationConfig } from '../../apps/escalation/src/config.js';
import { GatewayConfig } from '../../apps/gateway/src/config.js';
import { OrchestratorConfig } from '../../apps/orchestrator/src/config.js';
import { SkillWorkerConfig } from '../../apps/skill-worker/src/config.js';
import { WorkflowRunnerConfig } from '../../apps/workflow-runner/src/config.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

/** The deployable services: apps whose package.json starts `node dist/main.js` (the CLI is not one). */
export const SERVICES: string[] = readdirSync(join(ROOT, 'apps'))
  .filter((app) => {
    const file = join(ROOT, 'apps', app, 'package.json');
    if (!existsSync(file)) return false;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { scripts?: Record<string, string> };
    return pkg.scripts?.start === 'node dist/main.js';
  })
  .sort();

type ConfigSchema = z.ZodObject<z.ZodRawShape>;

/** Each service's config schema: the variables its main.ts parses with loadConfig. */
export const CONFIG_SCHEMAS: Record<string, ConfigSchema> = {
  gateway: GatewayConfig,
  orchestrator: OrchestratorConfig,
  'workflow-runner': WorkflowRunnerConfig,
  'skill-worker': SkillWorkerConfig,
  escalation: EscalationConfig,
};

export function configSchema(service: string): ConfigSchema {
  const schema = CONFIG_SCHEMAS[service];
  if (!schema) throw new Error(`no config schema known for service ${service}: add it to infra/test/support.ts`);
  return schema;
}

/** Variables a schema needs from the environment: no default and not optional. */
export function requiredVariables(schema: ConfigSchema): string[] {
  return Object.entries(schema.shape)
    .filter(([, field]) => !(field as z.ZodType).safeParse(undefined).success)
    .map(([name]) => name);
}

/** The schema's defaults (parsing an empty environment). */
export function configDefaults(service: string): Record<string, unknown> {
  return configSchema(service).parse({});
}

/** Files under a folder (recursively), as paths relative to the repository root. */
export function walk(dir: string, keep: (path: string) => boolean = () => true): string[] {
  const abs = join(ROOT, dir);
  if (!existsSync(abs)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(abs)) {
    if (entry === 'node_modules' || entry === 'dist' || entry === 'generated') continue;
    const path = join(abs, entry);
    if (statSync(path).isDirectory()) out.push(...walk(relative(ROOT, path), keep));
    else if (keep(relative(ROOT, path))) out.push(relative(ROOT, path));
  }
  return out.sort();
}

const isSource = (p: string) => p.endsWith('.ts') && !p.endsWith('.test.ts') && !p.endsWith('.d.ts');

/** Variables a service's own code reads from process.env directly (besides its config schema). */
export function directEnvReads(dirs: string[]): Set<string> {
  const names = new Set<string>();
  for (const dir of dirs)
    for (const file of walk(dir, isSource))
      for (const m of read(file).matchAll(/process\.env(?:\.([A-Z_][A-Z0-9_]*)|\[\s*['"]([A-Z_][A-Z0-9_]*)['"]\s*\])/g)) names.add((m[1] ?? m[2])!);
  return names;
}

/** Every variable a service may be given: its schema's, plus those its code (app and packages) reads directly. */
export function allowedVariables(service: string): Set<string> {
  return new Set([...Object.keys(configSchema(service).shape), ...directEnvReads([`apps/${service}/src`])]);
}

/** Docker Compose variable interpolation with an empty environment: `${X:-d}`/`${X-d}` give d, `${X}` gives ''. */
export function interpolate(value: string, env: Record<string, string> = {}): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (all, braced?: string, op?: string, arg?: string, bare?: string) => {
    if (all === '$$') return '$';
    const name = (braced ?? bare)!;
    const v = env[name];
    if (op === ':-') return v === undefined || v === '' ? (arg ?? '') : v;
    if (op === '-') return v === undefined ? (arg ?? '') : v;
    if (op === ':?' || op === '?') throw new Error(`\${${name}} is required: ${arg ?? ''}`);
    return v ?? '';
  });
}

/** Applies interpolate to every string of a parsed YAML document. */
export function interpolateDeep<T>(value: T): T {
  if (typeof value === 'string') return interpolate(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => interpolateDeep(v)) as T;
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateDeep(v as unknown)])) as T;
  return value;
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** Kubernetes label selector semantics (an empty selector matches everything). */
export function selects(selector: LabelSelector | undefined, labels: Record<string, string> = {}): boolean {
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = e.key in labels;
    const value = labels[e.key];
    if (e.operator === 'In' && !(has && (e.values ?? []).includes(value!))) return false;
    if (e.operator === 'NotIn' && has && (e.values ?? []).includes(value!)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
    if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(e.operator)) throw new Error(`unknown selector operator ${e.operator}`);
  }
  return true;
}

const PROMQL_WORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan', 'Inf', 'NaN']);

/** Metric names a PromQL expression selects (functions, keywords, labels, durations and strings left out). */
export function promqlMetricNames(expr: string): Set<string> {
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\boffset\s+-?[0-9a-z]+/g, ' ');
  const names = new Set<string>();
  for (const m of s.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const word = m[0];
    const before = s[m.index - 1] ?? ' ';
    if (/[0-9.$]/.test(before)) continue; // 2e9, 0.5e1, $variables
    if (PROMQL_WORDS.has(word)) continue;
    if (s.slice(m.index + word.length).trimStart().startsWith('(')) continue; // a function or an aggregation
    names.add(word);
  }
  return names;
}

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary';

export interface CatalogueRow {
  name: string;
  type: MetricType;
  labels: string[];
}

/** Rows of the markdown tables in docs/metrics.md under a `## heading` (first column a `metric`, then type, labels). */
export function catalogueTable(markdown: string, heading: string): CatalogueRow[] {
  const start = markdown.indexOf(`\n## ${heading}`);
  if (start < 0) throw new Error(`docs/metrics.md has no section "## ${heading}"`);
  const end = markdown.indexOf('\n## ', start + 1);
  const section = markdown.slice(start, end < 0 ? undefined : end);
  const rows: CatalogueRow[] = [];
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const name = /^`([A-Za-z_:][A-Za-z0-9_:]*)`$/.exec(cells[1] ?? '')?.[1];
    if (!name) continue;
    const type = cells[2] as MetricType;
    const labels = (cells[3] ?? '') === '—' ? [] : [...(cells[3] ?? '').matchAll(/`([a-zA-Z_][a-zA-Z0-9_]*)`/g)].map((m) => m[1]!);
    rows.push({ name, type, labels });
  }
  return rows;
}

/** The names a catalogue row lets an expression use (a histogram's _bucket, _sum and _count series too). */
export function seriesNames(rows: CatalogueRow[]): Set<string> {
  const names = new Set<string>();
  for (const r of rows) {
    names.add(r.name);
    if (r.type === 'histogram' || r.type === 'summary') for (const suffix of ['_bucket', '_sum', '_count']) names.add(r.name + suffix);
  }
  return names;
}

/** Whether a program is on the PATH (execFile, no shell). */
export function hasCommand(command: string, args: string[] = ['--version']): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}
