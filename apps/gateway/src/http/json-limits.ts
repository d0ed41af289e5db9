import type { ApiIssue } from './api-error.js';

/**
 * How deeply a request's JSON may nest. Deeper documents are refused before they reach zod, Prisma or the bus, whose
 * recursive serializers they would exhaust (a task input nested ~5000 levels deep overflowed Prisma's stack: a 500).
 */
export const MAX_JSON_DEPTH = 100;

/** UTF-16 surrogates without their pair: not Unicode, and not encodable as UTF-8. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** U+0000, which PostgreSQL cannot store in text or jsonb, or a lone surrogate. */
const unstorable = (s: string): boolean => s.includes('\u0000') || LONE_SURROGATE.test(s);

interface Node {
  value: unknown;
  depth: number;
  parent: Node | undefined;
  key: PropertyKey | undefined;
}

const pathOf = (n: Node): PropertyKey[] => {
  const path: PropertyKey[] = [];
  for (let at: Node | undefined = n; at?.parent; at = at.parent) path.unshift(at.key!);
  return path;
};

/**
 * The first part of a request value (body, query, path parameter) that no route can take: nesting deeper than
 * MAX_JSON_DEPTH, or a string or key with U+0000 or an unpaired surrogate. Iterative, so any depth is safe to walk.
 */
export function unacceptableJson(value: unknown): (ApiIssue & { code: string }) | undefined {
  const stack: Node[] = [{ value, depth: 0, parent: undefined, key: undefined }];
  while (stack.length > 0) {
    const n = stack.pop()!;
    const v = n.value;
    if (typeof v === 'string') {
      if (unstorable(v)) return { code: 'custom', path: pathOf(n), message: 'text may not contain U+0000 or unpaired UTF-16 surrogates' };
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (n.depth >= MAX_JSON_DEPTH) return { code: 'custom', path: pathOf(n).slice(0, 10), message: `JSON may nest at most ${MAX_JSON_DEPTH} levels deep` };
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i] as unknown, depth: n.depth + 1, parent: n, key: i });
    } else {
      for (const [k, child] of Object.entries(v)) {
        if (unstorable(k)) return { code: 'custom', path: [...pathOf(n), k], message: 'keys may not contain U+0000 or unpaired UTF-16 surrogates' };
        stack.push({ value: child, depth: n.depth + 1, parent: n, key: k });
      }
    }
  }
  return undefined;
}
