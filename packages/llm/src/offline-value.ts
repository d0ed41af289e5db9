import type { JsonSchema } from './json-schema.js';

/** Every offline string starts with this, so nobody mistakes it for model output. */
export const OFFLINE_MARKER = 'offline:';

const isObj = (v: unknown): v is JsonSchema => typeof v === 'object' && v !== null && !Array.isArray(v);

interface Ctx {
  root: JsonSchema;
  summary: string;
  depth: number;
}

/** Deterministic 32-bit FNV-1a, for stable ids derived from the prompt. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function resolveRef(ref: string, root: JsonSchema): JsonSchema | undefined {
  if (ref === '#') return root;
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = root;
  for (const part of ref.slice(2).split('/')) {
    if (!isObj(node)) return undefined;
    node = node[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return isObj(node) ? node : undefined;
}

function offlineString(schema: JsonSchema, ctx: Ctx, key: string | undefined): string {
  const min = typeof schema['minLength'] === 'number' ? schema['minLength'] : 0;
  const max = typeof schema['maxLength'] === 'number' ? schema['maxLength'] : Infinity;
  const hash = fnv1a(ctx.summary).toString(16).padStart(8, '0');
  switch (schema['format']) {
    case 'email':
      return `offline-${hash}@offline.invalid`;
    case 'uuid':
      return `${hash}-0000-4000-8000-${hash}0000`;
    case 'date-time':
      return '1970-01-01T00:00:00.000Z';
    case 'date':
      return '1970-01-01';
    case 'time':
      return '00:00:00';
    case 'uri':
    case 'url':
      return `https://offline.invalid/${hash}`;
    default:
      break;
  }
  let s = key === 'id' || key?.endsWith('Id') ? `offline-${hash}` : `${OFFLINE_MARKER} ${ctx.summary}`;
  if (s.length > max) s = s.slice(0, Math.max(0, max));
  if (s.length < min) s = s.padEnd(min, '.');
  return s;
}

function offlineNumber(schema: JsonSchema, integer: boolean): number {
  const num = (k: string): number | undefined => (typeof schema[k] === 'number' ? schema[k] : undefined);
  let n = 0;
  const min = num('minimum');
  const exMin = num('exclusiveMinimum');
  const max = num('maximum');
  const exMax = num('exclusiveMaximum');
  if (min !== undefined && n < min) n = min;
  if (exMin !== undefined && n <= exMin) n = integer ? Math.floor(exMin) + 1 : exMin + (max !== undefined ? (max - exMin) / 2 : 1);
  if (max !== undefined && n > max) n = max;
  if (exMax !== undefined && n >= exMax) n = integer ? Math.ceil(exMax) - 1 : exMax - 1;
  if (integer) n = Math.ceil(n);
  const multipleOf = num('multipleOf');
  if (multipleOf !== undefined && multipleOf > 0 && n % multipleOf !== 0) n = Math.ceil(n / multipleOf) * multipleOf;
  return n;
}

function build(schema: unknown, ctx: Ctx, key?: string): unknown {
  if (schema === true || schema === undefined) return `${OFFLINE_MARKER} ${ctx.summary}`;
  if (!isObj(schema) || ctx.depth > 32) return null;
  const next: Ctx = { ...ctx, depth: ctx.depth + 1 };
  if ('const' in schema) return schema['const'];
  if (Array.isArray(schema['enum']) && schema['enum'].length > 0) return schema['enum'][0];
  if (typeof schema['$ref'] === 'string') return build(resolveRef(schema['$ref'], ctx.root), next, key);
  if ('default' in schema) return schema['default'];
  for (const k of ['anyOf', 'oneOf'] as const) {
    const alts: unknown = schema[k];
    if (Array.isArray(alts) && alts.length > 0) {
      // A non-null branch says more than null does.
      const pick: unknown = (alts as unknown[]).find((a) => !(isObj(a) && a['type'] === 'null')) ?? (alts as unknown[])[0];
      return build(pick, next, key);
    }
  }
  if (Array.isArray(schema['allOf']) && schema['allOf'].length > 0) {
    const parts: JsonSchema[] = schema['allOf'].filter(isObj).map((s) => (typeof s['$ref'] === 'string' ? resolveRef(s['$ref'], ctx.root) ?? {} : s));
    const merged = parts.reduce<JsonSchema>((acc, part) => ({ ...acc, ...part }), {});
    return build(merged, next, key);
  }
  let type = schema['type'];
  if (Array.isArray(type)) type = type.find((t) => t !== 'null') ?? type[0];
  if (type === undefined && isObj(schema['properties'])) type = 'object';
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      const props = isObj(schema['properties']) ? schema['properties'] : {};
      const required = Array.isArray(schema['required']) ? schema['required'].filter((r): r is string => typeof r === 'string') : [];
      for (const name of required) out[name] = build(props[name], next, name);
      // An optional boolean field named like a marker is the schema's way of letting us say so.
      for (const name of ['offline', 'isOffline']) {
        const p = props[name];
        if (isObj(p) && p['type'] === 'boolean') out[name] = true;
      }
      return out;
    }
    case 'array': {
      const minItems = typeof schema['minItems'] === 'number' ? schema['minItems'] : 0;
      const prefix = Array.isArray(schema['prefixItems']) ? schema['prefixItems'] : [];
      const items: unknown[] = prefix.map((p) => build(p, next));
      while (items.length < minItems) items.push(build(schema['items'], next));
      return items;
    }
    case 'string':
      return offlineString(schema, ctx, key);
    case 'integer':
      return offlineNumber(schema, true);
    case 'number':
      return offlineNumber(schema, false);
    case 'boolean':
      return key === 'offline' || key === 'isOffline';
    case 'null':
      return null;
    default:
      return `${OFFLINE_MARKER} ${ctx.summary}`;
  }
}

/** First line of the prompt, trimmed, so offline strings say what they stand in for. */
export function summarize(prompt: string, max = 60): string {
  const line = prompt.trim().split('\n')[0]?.trim().replace(/\s+/g, ' ') ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** A minimal value satisfying `schema` (JSON Schema), marked offline wherever strings allow. */
export function offlineValueFor(schema: JsonSchema, prompt: string): unknown {
  return build(schema, { root: schema, summary: summarize(prompt), depth: 0 });
}
