// Data skills: JSONata queries, JSON Patch transforms, YAML, JSON Schema, Mustache templates, diffs and CSV. Pure, no I/O.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse as parseCsv } from 'csv-parse/sync';
import { createTwoFilesPatch, diffLines } from 'diff';
import jsonata from 'jsonata';
import Mustache from 'mustache';
import { parseAllDocuments, stringify as stringifyYaml } from 'yaml';
import { z } from 'zod';
import { defineSkill, SkillError } from '../skill.js';

const MiB = 1024 * 1024;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

// ------------------------------------------------------------------------------------------------ data.json.query

export async function evaluateJsonata(expression: string, data: unknown, bindings: Record<string, unknown>, timeoutMs: number, signal: AbortSignal): Promise<unknown> {
  let expr: jsonata.Expression;
  try {
    // Guardrails built into jsonata: wall-clock timeout, recursion depth and sequence length.
    expr = jsonata(expression, { timeout: timeoutMs, stack: 500, sequence: 1_000_000 });
  } catch (err) {
    throw new SkillError('invalid_expression', `JSONata syntax error: ${message(err)}`);
  }
  signal.throwIfAborted();
  try {
    const result = (await expr.evaluate(data, bindings)) as unknown;
    signal.throwIfAborted();
    // Sequences carry hidden flags; a JSON round trip returns plain data (undefined becomes null).
    return result === undefined ? null : (JSON.parse(JSON.stringify(result)) as unknown);
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    throw new SkillError('evaluation_failed', `JSONata evaluation failed: ${message(err)}`);
  }
}

export const jsonQuery = defineSkill({
  name: 'data.json.query',
  category: 'data',
  description: 'Evaluates a JSONata expression (queries, filters, aggregates, reshaping) against a JSON document; `$name` bindings are available. No result gives null.',
  sideEffects: 'none',
  timeoutMs: 30_000,
  input: z.object({
    expression: z.string().min(1).max(100_000).describe('JSONata expression, e.g. `orders[status="open"].total ~> $sum()`.'),
    data: z.unknown().describe('The JSON document to query.'),
    bindings: z.record(z.string().regex(/^[A-Za-z_]\w*$/), z.unknown()).default({}).describe('Variables available as $name.'),
    timeoutMs: z.number().int().min(10).max(25_000).default(5_000),
  }),
  output: z.object({ result: z.unknown() }),
  run: async (input, ctx) => ({ result: await evaluateJsonata(input.expression, input.data, input.bindings, input.timeoutMs, ctx.signal) }),
});

// ------------------------------------------------------------------------------------------------ data.json.transform (RFC 6902)

const Pointer = z.string().regex(/^(\/.*)?$/, 'a JSON Pointer ("" or starting with "/")');
const PatchOp = z.discriminatedUnion('op', [
  z.object({ op: z.literal('add'), path: Pointer, value: z.unknown() }),
  z.object({ op: z.literal('remove'), path: Pointer }),
  z.object({ op: z.literal('replace'), path: Pointer, value: z.unknown() }),
  z.object({ op: z.literal('move'), from: Pointer, path: Pointer }),
  z.object({ op: z.literal('copy'), from: Pointer, path: Pointer }),
  z.object({ op: z.literal('test'), path: Pointer, value: z.unknown() }),
]);
type PatchOp = z.infer<typeof PatchOp>;

const parsePointer = (p: string): string[] => (p === '' ? [] : p.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')));
const clone = <T>(v: T): T => structuredClone(v);

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isRecord(a) && isRecord(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

function getAt(doc: unknown, tokens: string[], where: string): unknown {
  let cur = doc;
  for (const t of tokens) {
    if (Array.isArray(cur) && /^(0|[1-9]\d*)$/.test(t) && Number(t) < cur.length) cur = cur[Number(t)];
    else if (isRecord(cur) && Object.hasOwn(cur, t)) cur = cur[t];
    else throw new SkillError('patch_path_missing', `${where}: path does not exist`);
  }
  return cur;
}

/** Applies RFC 6902 operations to a copy of the document. */
export function applyJsonPatch(doc: unknown, ops: PatchOp[]): unknown {
  let root = clone(doc);
  const set = (path: string, value: unknown, mode: 'add' | 'replace'): void => {
    const tokens = parsePointer(path);
    if (tokens.length === 0) {
      root = value;
      return;
    }
    const last = tokens.pop()!;
    const parent = getAt(root, tokens, path);
    if (Array.isArray(parent)) {
      const idx = last === '-' ? parent.length : /^(0|[1-9]\d*)$/.test(last) ? Number(last) : NaN;
      if (!Number.isInteger(idx) || idx > parent.length || (mode === 'replace' && idx >= parent.length)) throw new SkillError('patch_path_missing', `${path}: bad array index`);
      if (mode === 'add') parent.splice(idx, 0, value);
      else parent[idx] = value;
    } else if (isRecord(parent)) {
      if (mode === 'replace' && !Object.hasOwn(parent, last)) throw new SkillError('patch_path_missing', `${path}: path does not exist`);
      parent[last] = value;
    } else throw new SkillError('patch_path_missing', `${path}: parent is not an object or array`);
  };
  const remove = (path: string): unknown => {
    const tokens = parsePointer(path);
    if (tokens.length === 0) throw new SkillError('patch_invalid', 'cannot remove the whole document');
    const value = getAt(root, tokens, path);
    const last = tokens.pop()!;
    const parent = getAt(root, tokens, path);
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else if (isRecord(parent)) delete parent[last];
    return value;
  };
  ops.forEach((op, i) => {
    const where = `operation ${i + 1} (${op.op})`;
    try {
      switch (op.op) {
        case 'add':
          set(op.path, clone(op.value), 'add');
          break;
        case 'remove':
          remove(op.path);
          break;
        case 'replace':
          set(op.path, clone(op.value), 'replace');
          break;
        case 'move': {
          if (op.path.startsWith(`${op.from}/`)) throw new SkillError('patch_invalid', 'cannot move a value into itself');
          set(op.path, remove(op.from), 'add');
          break;
        }
        case 'copy':
          set(op.path, clone(getAt(root, parsePointer(op.from), op.from)), 'add');
          break;
        case 'test':
          if (!deepEqual(getAt(root, parsePointer(op.path), op.path), op.value)) throw new SkillError('patch_test_failed', `${op.path}: value is not the expected one`);
          break;
      }
    } catch (err) {
      if (err instanceof SkillError) throw new SkillError(err.code, `${where}: ${err.message}`);
      throw err;
    }
  });
  return root;
}

export const jsonTransform = defineSkill({
  name: 'data.json.transform',
  category: 'data',
  description: 'Transforms a JSON document with RFC 6902 JSON Patch operations (add, remove, replace, move, copy, test), then optionally reshapes the result with a JSONata expression.',
  sideEffects: 'none',
  timeoutMs: 30_000,
  input: z.object({
    data: z.unknown().describe('The JSON document.'),
    operations: z.array(PatchOp).max(10_000).default([]).describe('JSON Patch operations, applied in order; a failing `test` stops everything.'),
    map: z.string().max(100_000).optional().describe('JSONata expression applied to the patched document.'),
  }),
  output: z.object({ result: z.unknown() }),
  run: async (input, ctx) => {
    const patched = applyJsonPatch(input.data ?? null, input.operations);
    return { result: input.map ? await evaluateJsonata(input.map, patched, {}, 5_000, ctx.signal) : patched };
  },
});

// ------------------------------------------------------------------------------------------------ YAML

export const yamlParse = defineSkill({
  name: 'data.yaml.parse',
  category: 'data',
  description: 'Parses YAML text into JSON data; with several documents (---) returns them all. Errors name the line and column.',
  sideEffects: 'none',
  timeoutMs: 10_000,
  input: z.object({ text: z.string().max(20 * MiB), multiDocument: z.boolean().default(false).describe('Return every document in `documents` instead of exactly one.') }),
  output: z.object({ value: z.unknown().describe('The (first) document.'), documents: z.array(z.unknown()).optional() }),
  run: async (input) => {
    // Alias expansion is capped by the yaml library (maxAliasCount) against "billion laughs" input.
    const docs = parseAllDocuments(input.text, { prettyErrors: true, uniqueKeys: true });
    if (!Array.isArray(docs)) return input.multiDocument ? { value: null, documents: [] } : { value: null };
    for (const d of docs) {
      const e = d.errors[0];
      if (e) throw new SkillError('yaml_invalid', e.message);
    }
    if (!input.multiDocument && docs.length > 1) throw new SkillError('yaml_multiple_documents', `found ${docs.length} documents; set multiDocument to read them all`);
    const values = docs.map((d) => d.toJS({ maxAliasCount: 1000 }) as unknown);
    return input.multiDocument ? { value: values[0] ?? null, documents: values } : { value: values[0] ?? null };
  },
});

export const yamlStringify = defineSkill({
  name: 'data.yaml.stringify',
  category: 'data',
  description: 'Serialises JSON data as YAML text, with a chosen indent, optional sorted keys and line width.',
  sideEffects: 'none',
  timeoutMs: 10_000,
  input: z.object({
    value: z.unknown(),
    indent: z.number().int().min(1).max(8).default(2),
    sortKeys: z.boolean().default(false),
    lineWidth: z.number().int().min(0).max(1000).default(80).describe('0 disables folding.'),
  }),
  output: z.object({ text: z.string() }),
  run: async (input) => ({ text: stringifyYaml(input.value ?? null, { indent: input.indent, sortMapEntries: input.sortKeys, lineWidth: input.lineWidth }) }),
});

// ------------------------------------------------------------------------------------------------ data.jsonschema.validate

const SchemaError = z.object({ path: z.string().describe('JSON Pointer of the failing value.'), message: z.string(), keyword: z.string(), schemaPath: z.string() });

function compileSchema(schema: unknown): ValidateFunction {
  const draft = isRecord(schema) && typeof schema.$schema === 'string' ? schema.$schema : '';
  const opts = { allErrors: true, strict: false, validateFormats: false } as const;
  // Validators are compiled per call from the caller's schema; ajv compiles to JS internally, which is its documented model.
  const ajv = draft.includes('2020-12') ? new Ajv2020(opts) : draft.includes('2019-09') ? new Ajv2019(opts) : new Ajv(opts);
  try {
    return ajv.compile(schema as Record<string, unknown>);
  } catch (err) {
    throw new SkillError('schema_invalid', `the schema is not valid: ${message(err)}`);
  }
}

export const jsonschemaValidate = defineSkill({
  name: 'data.jsonschema.validate',
  category: 'data',
  description: 'Validates a JSON value against a JSON Schema (draft-07 by default; 2019-09 and 2020-12 by $schema) and lists every violation with its path.',
  sideEffects: 'none',
  timeoutMs: 15_000,
  input: z.object({ schema: z.union([z.record(z.string(), z.unknown()), z.boolean()]).describe('The JSON Schema.'), value: z.unknown().describe('The value to validate.') }),
  output: z.object({ valid: z.boolean(), errors: z.array(SchemaError) }),
  run: async (input) => {
    const validate = compileSchema(input.schema);
    const valid = validate(input.value ?? null);
    const errors = (validate.errors ?? []).map((e: ErrorObject) => ({
      path: e.instancePath,
      message: `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}${e.keyword === 'additionalProperties' && isRecord(e.params) ? `: ${String(e.params.additionalProperty)}` : ''}`,
      keyword: e.keyword,
      schemaPath: e.schemaPath,
    }));
    return { valid: valid === true, errors };
  },
});

// ------------------------------------------------------------------------------------------------ data.template.render

export const templateRender = defineSkill({
  name: 'data.template.render',
  category: 'data',
  description: 'Renders a Mustache template (logic-less: {{var}}, {{#section}}, {{^inverted}}, {{>partial}}) with JSON data; HTML escaping on by default.',
  sideEffects: 'none',
  timeoutMs: 10_000,
  input: z.object({
    template: z.string().max(5 * MiB),
    data: z.record(z.string(), z.unknown()).default({}),
    partials: z.record(z.string(), z.string()).default({}),
    escape: z.enum(['html', 'none']).default('html').describe('How {{var}} is escaped; {{{var}}} is never escaped.'),
    strict: z.boolean().default(false).describe('Fail when a variable the template names is missing from data.'),
  }),
  output: z.object({ text: z.string() }),
  run: async (input) => {
    let tokens: unknown;
    try {
      tokens = Mustache.parse(input.template);
    } catch (err) {
      throw new SkillError('template_invalid', `template syntax error: ${message(err)}`);
    }
    if (input.strict) {
      const missing = missingNames(tokens, input.data);
      if (missing.length > 0) throw new SkillError('template_missing_values', `missing values: ${missing.join(', ')}`);
    }
    const config = input.escape === 'none' ? { escape: (s: string) => s } : {};
    return { text: Mustache.render(input.template, input.data, input.partials, config) };
  },
});

/** Top-level variable names (and section names) used by the template that the data lacks. */
function missingNames(tokens: unknown, data: Record<string, unknown>): string[] {
  const missing = new Set<string>();
  const visit = (ts: unknown, inSection: boolean): void => {
    if (!Array.isArray(ts)) return;
    for (const t of ts) {
      if (!Array.isArray(t)) continue;
      const [kind, name] = t as [string, string];
      if ((kind === 'name' || kind === '&' || kind === '#') && !inSection && name !== '.') {
        const head = name.split('.')[0]!;
        if (!Object.hasOwn(data, head)) missing.add(name);
      }
      // Names inside sections resolve against the section's context, so they are not checked.
      if (kind === '#' || kind === '^') visit(t[4], true);
    }
  };
  visit(tokens, false);
  return [...missing];
}

// ------------------------------------------------------------------------------------------------ data.diff

const JsonChange = z.object({
  op: z.enum(['add', 'remove', 'replace']),
  path: z.string().describe('JSON Pointer.'),
  from: z.unknown().optional().describe('Old value (remove, replace).'),
  to: z.unknown().optional().describe('New value (add, replace).'),
});
type JsonChange = z.infer<typeof JsonChange>;

const escapeToken = (k: string): string => k.replace(/~/g, '~0').replace(/\//g, '~1');

export function jsonDiff(a: unknown, b: unknown, path = '', out: JsonChange[] = []): JsonChange[] {
  if (deepEqual(a, b)) return out;
  if (isRecord(a) && isRecord(b)) {
    for (const k of Object.keys(a)) {
      if (!Object.hasOwn(b, k)) out.push({ op: 'remove', path: `${path}/${escapeToken(k)}`, from: a[k] });
      else jsonDiff(a[k], b[k], `${path}/${escapeToken(k)}`, out);
    }
    for (const k of Object.keys(b)) if (!Object.hasOwn(a, k)) out.push({ op: 'add', path: `${path}/${escapeToken(k)}`, to: b[k] });
    return out;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const common = Math.min(a.length, b.length);
    for (let i = 0; i < common; i++) jsonDiff(a[i], b[i], `${path}/${i}`, out);
    for (let i = common; i < b.length; i++) out.push({ op: 'add', path: `${path}/${i}`, to: b[i] });
    // Removals from the end, highest index first, so the list also works as a patch.
    for (let i = a.length - 1; i >= common; i--) out.push({ op: 'remove', path: `${path}/${i}`, from: a[i] });
    return out;
  }
  out.push({ op: 'replace', path, from: a, to: b });
  return out;
}

export const dataDiff = defineSkill({
  name: 'data.diff',
  category: 'data',
  description: 'Compares two values: mode "json" gives a structural diff (add/remove/replace by JSON Pointer); mode "text" gives a unified diff of two strings with added/removed line counts.',
  sideEffects: 'none',
  timeoutMs: 30_000,
  input: z.discriminatedUnion('mode', [
    z.object({ mode: z.literal('json'), before: z.unknown(), after: z.unknown() }),
    z.object({
      mode: z.literal('text'),
      before: z.string().max(10 * MiB),
      after: z.string().max(10 * MiB),
      context: z.number().int().min(0).max(100).default(3),
      beforeName: z.string().default('before'),
      afterName: z.string().default('after'),
    }),
  ]),
  output: z.object({
    equal: z.boolean(),
    changes: z.array(JsonChange).optional().describe('json mode: the changes, usable as a JSON Patch.'),
    unified: z.string().optional().describe('text mode: the unified diff.'),
    added: z.number().int().optional().describe('text mode: lines added.'),
    removed: z.number().int().optional().describe('text mode: lines removed.'),
  }),
  run: async (input, ctx) => {
    if (input.mode === 'json') {
      const changes = jsonDiff(input.before ?? null, input.after ?? null);
      return { equal: changes.length === 0, changes };
    }
    ctx.signal.throwIfAborted();
    let added = 0;
    let removed = 0;
    for (const part of diffLines(input.before, input.after)) {
      if (part.added) added += part.count;
      else if (part.removed) removed += part.count;
    }
    const unified = added + removed === 0 ? '' : createTwoFilesPatch(input.beforeName, input.afterName, input.before, input.after, undefined, undefined, { context: input.context });
    return { equal: input.before === input.after, unified, added, removed };
  },
});

// ------------------------------------------------------------------------------------------------ data.csv.parse

export const csvParse = defineSkill({
  name: 'data.csv.parse',
  category: 'data',
  description: 'Parses CSV/TSV text (RFC 4180 quoting) into rows: objects keyed by the header row, or arrays. Optional number/boolean casting.',
  sideEffects: 'none',
  timeoutMs: 30_000,
  input: z.object({
    text: z.string().max(50 * MiB),
    delimiter: z.string().min(1).max(4).default(',').describe('Field separator, e.g. "," ";" or "\\t".'),
    header: z.boolean().default(true).describe('First row names the columns (rows become objects).'),
    cast: z.boolean().default(false).describe('Turn numeric and true/false fields into numbers and booleans.'),
    trim: z.boolean().default(true),
    skipEmptyLines: z.boolean().default(true),
    maxRows: z.number().int().min(1).max(1_000_000).default(100_000),
  }),
  output: z.object({
    columns: z.array(z.string()).nullable().describe('Header names, when header is true.'),
    rows: z.array(z.union([z.record(z.string(), z.unknown()), z.array(z.unknown())])),
    rowCount: z.number().int(),
    truncated: z.boolean().describe('More rows than maxRows.'),
  }),
  run: async (input) => {
    let records: unknown[];
    try {
      records = parseCsv(input.text, {
        delimiter: input.delimiter,
        trim: input.trim,
        skip_empty_lines: input.skipEmptyLines,
        relax_column_count: false,
        bom: true,
        to_line: input.maxRows + (input.header ? 2 : 1),
        cast: input.cast ? (v: string, c: { quoting: boolean }) => castField(v, c.quoting) : false,
      });
    } catch (err) {
      throw new SkillError('csv_invalid', message(err));
    }
    const arrays = records.filter((r): r is unknown[] => Array.isArray(r));
    if (!input.header) return { columns: null, rows: arrays.slice(0, input.maxRows), rowCount: Math.min(arrays.length, input.maxRows), truncated: arrays.length > input.maxRows };
    const [head = [], ...body] = arrays;
    const columns = head.map((h, i) => (h === null || h === undefined || h === '' ? `column${i + 1}` : (typeof h === 'string' ? h : JSON.stringify(h))));
    if (new Set(columns).size !== columns.length) throw new SkillError('csv_invalid', 'duplicate column names in the header row');
    const rows = body.slice(0, input.maxRows).map((r) => Object.fromEntries(columns.map((c, i) => [c, r[i] ?? null])));
    return { columns, rows, rowCount: rows.length, truncated: body.length > input.maxRows };
  },
});

const castField = (v: string, quoted: boolean): unknown => {
  if (quoted) return v;
  if (/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(v)) return Number(v);
  if (v === 'true' || v === 'false') return v === 'true';
  return v;
};
