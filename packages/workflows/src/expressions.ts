// Expressions in definitions are CEL (https://cel.dev), evaluated by @marcbachmann/cel-js: no eval, no I/O, no
// loops, bounded size. Values cross in as JSON (integral numbers become CEL ints) and come back as JSON.
import { Environment } from '@marcbachmann/cel-js';

const env = new Environment({
  unlistedVariablesAreDyn: false,
  homogeneousAggregateLiterals: false,
  enableOptionalTypes: true,
  limits: { maxAstNodes: 500, maxDepth: 32, maxListElements: 1000, maxMapEntries: 1000, maxCallArguments: 32 },
})
  .registerVariable('inputs', 'map')
  .registerVariable('steps', 'map')
  .registerVariable('item', 'dyn')
  .registerVariable('index', 'int');

/** What an expression reads: workflow inputs, other steps, and the for_each element. */
export interface References {
  inputs: Set<string>;
  steps: Set<string>;
  /** Reads `inputs` as a whole (not one named input). */
  wholeInputs: boolean;
  item: boolean;
}

export interface Scope {
  inputs: Record<string, unknown>;
  steps: Record<string, { output: unknown; status: string }>;
  item?: unknown;
  index?: number;
}

export interface CompiledExpression {
  source: string;
  refs: References;
  /** The CEL type the checker infers (`bool`, `int`, `dyn`, ...). */
  type: string;
  evaluate(scope: Scope): unknown;
}

export class ExpressionError extends Error {
  constructor(
    readonly source: string,
    message: string,
  ) {
    super(message);
    this.name = 'ExpressionError';
  }
}

interface AstNode {
  op: string;
  args: unknown;
}
const isNode = (v: unknown): v is AstNode => typeof v === 'object' && v !== null && 'op' in v && 'args' in v;

function collectRefs(node: unknown, refs: References, parent?: AstNode): void {
  if (Array.isArray(node)) {
    for (const n of node) collectRefs(n, refs, parent);
    return;
  }
  if (!isNode(node)) return;
  if (node.op === 'id' && typeof node.args === 'string') {
    const name = node.args;
    const field = parent && (parent.op === '.' || parent.op === '.?') && Array.isArray(parent.args) && typeof parent.args[1] === 'string' ? parent.args[1] : undefined;
    if (name === 'inputs') {
      if (field) refs.inputs.add(field);
      else refs.wholeInputs = true;
    } else if (name === 'steps' && field) refs.steps.add(field);
    else if (name === 'item' || name === 'index') refs.item = true;
    return;
  }
  collectRefs(node.args, refs, node);
}

const firstLine = (m: string) => m.split('\n')[0] ?? m;

/** Parses and type-checks a CEL expression; throws ExpressionError with the reason. */
export function compileExpression(source: string): CompiledExpression {
  let parsed: ReturnType<typeof env.parse>;
  try {
    parsed = env.parse(source);
  } catch (err) {
    throw new ExpressionError(source, `expression \`${source}\` does not parse: ${firstLine((err as Error).message)}`);
  }
  const checked = parsed.check();
  if (!checked.valid) throw new ExpressionError(source, `expression \`${source}\` is not valid: ${firstLine(checked.error?.message ?? 'type error')}`);
  const refs: References = { inputs: new Set(), steps: new Set(), wholeInputs: false, item: false };
  collectRefs(parsed.ast, refs);
  return {
    source,
    refs,
    type: String(checked.type),
    evaluate(scope) {
      try {
        return fromCel(parsed({ inputs: toCel(scope.inputs), steps: toCel(scope.steps), item: toCel(scope.item ?? null), index: BigInt(scope.index ?? 0) }));
      } catch (err) {
        throw new ExpressionError(source, `expression \`${source}\` failed: ${firstLine((err as Error).message)}`);
      }
    },
  };
}

/** JSON → CEL values: integral numbers become ints, so `inputs.count + 1` works on JSON input. */
function toCel(v: unknown): unknown {
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : v;
  if (Array.isArray(v)) return v.map(toCel);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toCel(x)]));
  return v;
}

/** CEL values → JSON. */
function fromCel(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) return v.toISOString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (v instanceof Map) return Object.fromEntries([...v.entries()].map(([k, x]) => [String(k), fromCel(x)]));
  if (Array.isArray(v)) return v.map(fromCel);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fromCel(x)]));
  return v;
}

// ---------------------------------------------------------------- templates: `${{ expr }}` inside JSON values

const PLACEHOLDER = /\$\{\{\s*([\s\S]+?)\s*\}\}/g;
const WHOLE = /^\$\{\{\s*([\s\S]+?)\s*\}\}$/;

export interface CompiledTemplate {
  refs: References;
  /** Every expression in the template, for error reporting. */
  expressions: CompiledExpression[];
  render(scope: Scope): unknown;
}

/** Compiles a JSON value whose strings may hold `${{ expr }}` placeholders. Throws ExpressionError. */
export function compileTemplate(value: unknown): CompiledTemplate {
  const expressions: CompiledExpression[] = [];
  const build = (v: unknown): ((s: Scope) => unknown) => {
    if (typeof v === 'string') {
      const whole = WHOLE.exec(v);
      if (whole && !whole[1]!.includes('}}')) {
        const e = compileExpression(whole[1]!);
        expressions.push(e);
        return (s) => e.evaluate(s);
      }
      const parts: (string | CompiledExpression)[] = [];
      let last = 0;
      for (const m of v.matchAll(PLACEHOLDER)) {
        parts.push(v.slice(last, m.index));
        const e = compileExpression(m[1]!);
        expressions.push(e);
        parts.push(e);
        last = m.index + m[0].length;
      }
      if (parts.length === 0) return () => v;
      parts.push(v.slice(last));
      return (s) => parts.map((p) => (typeof p === 'string' ? p : asText(p.evaluate(s)))).join('');
    }
    if (Array.isArray(v)) {
      const items = v.map(build);
      return (s) => items.map((f) => f(s));
    }
    if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v).map(([k, x]) => [k, build(x)] as const);
      return (s) => Object.fromEntries(entries.map(([k, f]) => [k, f(s)]));
    }
    return () => v;
  };
  const render = build(value);
  const refs: References = { inputs: new Set(), steps: new Set(), wholeInputs: false, item: false };
  for (const e of expressions) {
    e.refs.inputs.forEach((x) => refs.inputs.add(x));
    e.refs.steps.forEach((x) => refs.steps.add(x));
    refs.wholeInputs ||= e.refs.wholeInputs;
    refs.item ||= e.refs.item;
  }
  return { refs, expressions, render };
}

const asText = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v) ?? '');

/** A `when` condition may be written bare (`inputs.deploy`) or as one placeholder (`${{ inputs.deploy }}`). */
export function compileCondition(source: string): CompiledExpression {
  const whole = WHOLE.exec(source.trim());
  return compileExpression(whole ? whole[1]! : source);
}
