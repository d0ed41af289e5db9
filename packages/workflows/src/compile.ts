// Turns a workflow definition document into the graph the workflow-runner executes, and refuses bad documents
// with issues that point at the offending step: schema errors, duplicate ids, unknown dependencies, cycles,
// unparsable expressions, reads of steps that are not upstream, undeclared inputs, unknown skills and workflows.
import { WorkflowDefinition, type RetryPolicy, type WorkflowStepDefinition } from '@steward/contracts';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { durationMs } from './duration.js';
import { compileCondition, compileTemplate, ExpressionError, type CompiledExpression, type CompiledTemplate, type References } from './expressions.js';

export type StepKind = 'skill' | 'workflow' | 'decision' | 'wait';

export interface CompiledRetry {
  /** Undefined: the runner's default. */
  maxAttempts?: number;
  backoff: { type: 'fixed' | 'exponential'; initialMs: number; maxMs: number; multiplier: number; jitter: number };
  nonRetryable: ReadonlySet<string>;
}

export type CompiledWait = { kind: 'event'; event: string; key?: CompiledTemplate; lookbackMs: number; timeoutMs?: number } | { kind: 'duration'; ms: number };

export interface CompiledStep {
  id: string;
  kind: StepKind;
  definition: WorkflowStepDefinition;
  /** Direct predecessors: the previous step of a sequential stage, the whole previous stage, and depends_on. */
  deps: readonly string[];
  when?: CompiledExpression;
  /** Undefined: the default wiring (the single predecessor's output, all predecessors' outputs, or the run input). */
  with?: CompiledTemplate;
  retry: CompiledRetry;
  timeoutMs?: number;
  heartbeatTimeoutMs?: number;
  skill?: string;
  workflow?: { name: string; version?: number };
  decision?: { type: string; options: { id: string; label: string }[]; proposal?: CompiledTemplate; context?: CompiledTemplate; fallback?: string; fallbackAfterMs?: number };
  wait?: CompiledWait;
  forEach?: { items: CompiledExpression; concurrency: number };
}

export interface CompiledWorkflow {
  name: string;
  version: number;
  document: WorkflowDefinition;
  /** Steps in a topological order (every step after its dependencies). */
  steps: readonly CompiledStep[];
  byId: ReadonlyMap<string, CompiledStep>;
  /** The steps of the last stage: their outputs make the default run output. */
  lastStage: readonly string[];
  outputs?: CompiledTemplate;
  timeoutMs?: number;
  /** Checks a run's input against `inputs`; returns the problems, or [] when it is acceptable. */
  checkInput(input: unknown): string[];
}

export interface DefinitionIssue {
  /** Where in the document: e.g. ['stages', 0, 'steps', 2, 'with', 'path']. */
  path: (string | number)[];
  /** What kind of problem: schema, duplicate_step, unknown_dependency, cycle, expression, unknown_reference, undeclared_input, inputs_schema, unknown_skill, missing_input, unknown_workflow, decision. */
  code: string;
  /** The offending step's id, when the issue is about a step. */
  step?: string;
  message: string;
}

/** What registration knows about the world; omitted parts are not checked. */
export interface CompileContext {
  /** Registered skills and the input fields each requires. */
  skills?: ReadonlyMap<string, { required: readonly string[] }>;
  /** Names of registered workflows (children may be registered in the same batch). */
  workflows?: ReadonlySet<string>;
}

export type CompileResult = { ok: true; workflow: CompiledWorkflow } | { ok: false; issues: DefinitionIssue[] };

const ajv = new Ajv2020({ allErrors: true, strict: false });

function compileRetry(r: RetryPolicy | undefined): CompiledRetry {
  const b = r?.backoff;
  return {
    ...(r ? { maxAttempts: r.max_attempts } : {}),
    backoff: { type: b?.type ?? 'exponential', initialMs: durationMs(b?.initial ?? '1s'), maxMs: durationMs(b?.max ?? '5m'), multiplier: b?.multiplier ?? 2, jitter: b?.jitter ?? 0.2 },
    nonRetryable: new Set(r?.non_retryable ?? []),
  };
}

/** Compiles a definition document (already parsed from YAML or JSON). */
export function compileDefinition(raw: unknown, world: CompileContext = {}): CompileResult {
  const parsed = WorkflowDefinition.safeParse(raw);
  if (!parsed.success) {
    const doc = (raw ?? {}) as { stages?: { steps?: { id?: unknown }[] }[]; steps?: { id?: unknown }[] };
    return {
      ok: false,
      issues: parsed.error.issues.map((i) => {
        const step = stepAt(doc, i.path as (string | number)[]);
        return { path: i.path as (string | number)[], ...(step ? { step } : {}), code: 'schema', message: step ? `step ${step}: ${i.message}` : i.message };
      }),
    };
  }
  const doc = parsed.data;
  const issues: DefinitionIssue[] = [];
  const stages = doc.stages ?? [{ parallel: false, steps: doc.steps ?? [] }];
  const basePath = (si: number, i: number): (string | number)[] => (doc.stages ? ['stages', si, 'steps', i] : ['steps', i]);

  // Ids and the graph edges stages imply.
  const located: { def: WorkflowStepDefinition; path: (string | number)[]; deps: Set<string> }[] = [];
  const seen = new Set<string>();
  let previousStage: string[] = [];
  stages.forEach((stage, si) => {
    let previousStep: string | undefined;
    stage.steps.forEach((def, i) => {
      const path = basePath(si, i);
      if (seen.has(def.id)) issues.push({ path: [...path, 'id'], step: def.id, code: 'duplicate_step', message: `step ${def.id}: duplicate step id` });
      seen.add(def.id);
      const deps = new Set<string>(stage.parallel || !previousStep ? previousStage : [previousStep]);
      located.push({ def, path, deps });
      previousStep = def.id;
    });
    // What the next stage waits for: the last step of a sequential stage (it ran after the others), or all of a parallel one.
    previousStage = stage.parallel ? stage.steps.map((s) => s.id) : [previousStep!];
  });
  const lastStage = previousStage;
  for (const s of located) {
    (s.def.depends_on ?? []).forEach((d, j) => {
      if (d === s.def.id) issues.push({ path: [...s.path, 'depends_on', j], step: s.def.id, code: 'unknown_dependency', message: `step ${s.def.id} depends on itself` });
      else if (!seen.has(d)) issues.push({ path: [...s.path, 'depends_on', j], step: s.def.id, code: 'unknown_dependency', message: `step ${s.def.id} depends on unknown step ${d}` });
      else s.deps.add(d);
    });
  }
  const order = topologicalOrder(located.map((s) => ({ id: s.def.id, deps: [...s.deps] })));
  if (!order.ok) {
    const s = located.find((x) => x.def.id === order.cycle[0])!;
    issues.push({ path: [...s.path, 'depends_on'], step: s.def.id, code: 'cycle', message: `steps ${order.cycle.join(' → ')} → ${order.cycle[0]} form a cycle` });
    return { ok: false, issues };
  }
  if (issues.length > 0) return { ok: false, issues };

  // Ancestors, to check that expressions read only steps that have finished by then.
  const byIdLocated = new Map(located.map((s) => [s.def.id, s]));
  const ancestors = new Map<string, Set<string>>();
  for (const id of order.ids) {
    const set = new Set<string>();
    for (const d of byIdLocated.get(id)!.deps) {
      set.add(d);
      ancestors.get(d)!.forEach((a) => set.add(a));
    }
    ancestors.set(id, set);
  }

  const declaredInputs = declaredInputNames(doc.inputs);
  let inputSchema: ReturnType<typeof ajv.compile> | undefined;
  if (doc.inputs) {
    try {
      inputSchema = ajv.compile(doc.inputs);
    } catch (err) {
      issues.push({ path: ['inputs'], code: 'inputs_schema', message: `inputs is not a valid JSON Schema: ${(err as Error).message}` });
    }
  }

  const checkRefs = (refs: References, step: string | undefined, path: (string | number)[], allowItem: boolean) => {
    const who = step ? `step ${step}` : 'outputs';
    for (const name of refs.inputs) {
      if (declaredInputs && !declaredInputs.has(name)) issues.push({ path, ...(step ? { step } : {}), code: 'undeclared_input', message: `${who} reads inputs.${name}, which inputs does not declare` });
    }
    for (const s of refs.steps) {
      if (!byIdLocated.has(s)) issues.push({ path, ...(step ? { step } : {}), code: 'unknown_reference', message: `${who} reads steps.${s}: there is no such step` });
      else if (step && !ancestors.get(step)!.has(s)) issues.push({ path, step, code: 'unknown_reference', message: `${who} reads steps.${s}, which does not run before it (add it to depends_on)` });
    }
    if (refs.item && !allowItem) issues.push({ path, ...(step ? { step } : {}), code: 'unknown_reference', message: `${who} reads item/index outside for_each` });
  };
  const expr = <T>(step: string | undefined, path: (string | number)[], make: () => T): T | undefined => {
    try {
      return make();
    } catch (err) {
      if (!(err instanceof ExpressionError)) throw err;
      issues.push({ path, ...(step ? { step } : {}), code: 'expression', message: step ? `step ${step}: ${err.message}` : err.message });
      return undefined;
    }
  };

  const steps: CompiledStep[] = [];
  for (const id of order.ids) {
    const { def, path, deps } = byIdLocated.get(id)!;
    const kind: StepKind = def.skill ? 'skill' : def.workflow ? 'workflow' : def.decision ? 'decision' : 'wait';
    const step: CompiledStep = { id, kind, definition: def, deps: [...deps], retry: compileRetry(def.retry) };
    if (def.when !== undefined) {
      const w = expr(id, [...path, 'when'], () => compileCondition(def.when!));
      if (w) {
        checkRefs(w.refs, id, [...path, 'when'], false);
        if (w.type !== 'bool' && w.type !== 'dyn') issues.push({ path: [...path, 'when'], step: id, code: 'expression', message: `step ${id}: when must be a condition (true/false), not ${w.type}` });
        step.when = w;
      }
    }
    if (def.for_each) {
      const items = expr(id, [...path, 'for_each', 'items'], () => compileCondition(def.for_each!.items));
      if (items) {
        checkRefs(items.refs, id, [...path, 'for_each', 'items'], false);
        if (!['list', 'dyn'].some((t) => items.type === t || items.type.startsWith('list'))) issues.push({ path: [...path, 'for_each', 'items'], step: id, code: 'expression', message: `step ${id}: for_each.items must be a list, not ${items.type}` });
        step.forEach = { items, concurrency: def.for_each.concurrency };
      }
    }
    if (def.with !== undefined) {
      const w = expr(id, [...path, 'with'], () => compileTemplate(def.with));
      if (w) {
        checkRefs(w.refs, id, [...path, 'with'], Boolean(def.for_each));
        step.with = w;
      }
    }
    if (def.timeout !== undefined) step.timeoutMs = durationMs(def.timeout);
    if (def.heartbeat_timeout !== undefined) step.heartbeatTimeoutMs = durationMs(def.heartbeat_timeout);

    if (def.skill) {
      step.skill = def.skill;
      const known = world.skills?.get(def.skill);
      if (world.skills && !known) issues.push({ path: [...path, 'skill'], step: id, code: 'unknown_skill', message: `step ${id} uses unknown skill ${def.skill}` });
      if (known && def.with && typeof def.with === 'object') {
        for (const field of known.required) {
          if (!(field in def.with)) issues.push({ path: [...path, 'with'], step: id, code: 'missing_input', message: `step ${id}: skill ${def.skill} requires input ${field}, which with does not give` });
        }
      }
    } else if (def.workflow) {
      step.workflow = { name: def.workflow.name, ...(def.workflow.version ? { version: def.workflow.version } : {}) };
      if (def.workflow.name === doc.name) issues.push({ path: [...path, 'workflow'], step: id, code: 'unknown_workflow', message: `step ${id}: a workflow cannot run itself as a child` });
      else if (world.workflows && !world.workflows.has(def.workflow.name)) issues.push({ path: [...path, 'workflow', 'name'], step: id, code: 'unknown_workflow', message: `step ${id} runs unknown workflow ${def.workflow.name}` });
    } else if (def.decision) {
      const d = def.decision;
      const ids = new Set(d.options.map((o) => o.id));
      if (ids.size !== d.options.length) issues.push({ path: [...path, 'decision', 'options'], step: id, code: 'decision', message: `step ${id}: decision option ids must be unique` });
      if (d.fallback && !ids.has(d.fallback)) issues.push({ path: [...path, 'decision', 'fallback'], step: id, code: 'decision', message: `step ${id}: fallback ${d.fallback} is not one of the options` });
      const proposal = d.proposal === undefined ? undefined : expr(id, [...path, 'decision', 'proposal'], () => compileTemplate(d.proposal));
      const context = d.context === undefined ? undefined : expr(id, [...path, 'decision', 'context'], () => compileTemplate(d.context));
      if (proposal) checkRefs(proposal.refs, id, [...path, 'decision', 'proposal'], false);
      if (context) checkRefs(context.refs, id, [...path, 'decision', 'context'], false);
      if (d.fallback_after !== undefined && !d.fallback) issues.push({ path: [...path, 'decision', 'fallback_after'], step: id, code: 'decision', message: `step ${id}: fallback_after needs a fallback option` });
      step.decision = {
        type: d.type,
        options: d.options,
        ...(proposal ? { proposal } : {}),
        ...(context ? { context } : {}),
        ...(d.fallback ? { fallback: d.fallback } : {}),
        ...(d.fallback_after !== undefined ? { fallbackAfterMs: durationMs(d.fallback_after) } : {}),
      };
    } else if (def.wait) {
      const w = def.wait;
      if ('duration' in w) step.wait = { kind: 'duration', ms: durationMs(w.duration) };
      else {
        const key = w.key === undefined ? undefined : expr(id, [...path, 'wait', 'key'], () => compileTemplate(w.key));
        if (key) checkRefs(key.refs, id, [...path, 'wait', 'key'], false);
        step.wait = { kind: 'event', event: w.event, ...(key ? { key } : {}), lookbackMs: w.lookback === undefined ? 0 : durationMs(w.lookback), ...(w.timeout !== undefined ? { timeoutMs: durationMs(w.timeout) } : {}) };
      }
    }
    steps.push(step);
  }

  let outputs: CompiledTemplate | undefined;
  if (doc.outputs) {
    outputs = expr(undefined, ['outputs'], () => compileTemplate(doc.outputs));
    if (outputs) checkRefs(outputs.refs, undefined, ['outputs'], false);
  }
  if (issues.length > 0) return { ok: false, issues };

  return {
    ok: true,
    workflow: {
      name: doc.name,
      version: doc.version,
      document: doc,
      steps,
      byId: new Map(steps.map((s) => [s.id, s])),
      lastStage,
      ...(outputs ? { outputs } : {}),
      ...(doc.timeout !== undefined ? { timeoutMs: durationMs(doc.timeout) } : {}),
      checkInput: (input) => {
        if (!inputSchema || inputSchema(input)) return [];
        return (inputSchema.errors ?? []).map((e) => `input${e.instancePath.replaceAll('/', '.')} ${e.message ?? 'is not valid'}`);
      },
    },
  };
}

/** Names of the declared inputs, or undefined when the definition does not declare its input's properties. */
function declaredInputNames(schema: Record<string, unknown> | undefined): Set<string> | undefined {
  const props = schema?.properties;
  if (!props || typeof props !== 'object') return undefined;
  return new Set(Object.keys(props));
}

function stepAt(doc: { stages?: { steps?: { id?: unknown }[] }[]; steps?: { id?: unknown }[] }, path: (string | number)[]): string | undefined {
  let steps: { id?: unknown }[] | undefined;
  let index: unknown;
  if (path[0] === 'stages' && typeof path[1] === 'number' && path[2] === 'steps') {
    steps = doc.stages?.[path[1]]?.steps;
    index = path[3];
  } else if (path[0] === 'steps') {
    steps = doc.steps;
    index = path[1];
  }
  const id = typeof index === 'number' ? steps?.[index]?.id : undefined;
  return typeof id === 'string' ? id : undefined;
}

/** Kahn's algorithm; on a cycle, returns one cycle's ids in order. */
export function topologicalOrder(nodes: { id: string; deps: string[] }[]): { ok: true; ids: string[] } | { ok: false; cycle: string[] } {
  const indegree = new Map(nodes.map((n) => [n.id, 0]));
  const dependants = new Map<string, string[]>(nodes.map((n) => [n.id, []]));
  for (const n of nodes) {
    for (const d of n.deps) {
      if (!indegree.has(d)) continue;
      indegree.set(n.id, indegree.get(n.id)! + 1);
      dependants.get(d)!.push(n.id);
    }
  }
  // Keep the document's order among steps that are ready together.
  const ready = nodes.filter((n) => indegree.get(n.id) === 0).map((n) => n.id);
  const ids: string[] = [];
  while (ready.length > 0) {
    const id = ready.shift()!;
    ids.push(id);
    for (const x of dependants.get(id)!) {
      indegree.set(x, indegree.get(x)! - 1);
      if (indegree.get(x) === 0) ready.push(x);
    }
  }
  if (ids.length === nodes.length) return { ok: true, ids };
  // Walk backwards along unfinished dependencies until a node repeats.
  const left = new Map(nodes.filter((n) => indegree.get(n.id)! > 0).map((n) => [n.id, n.deps.filter((d) => indegree.get(d)! > 0)]));
  const path: string[] = [];
  let at = left.keys().next().value!;
  while (!path.includes(at)) {
    path.push(at);
    at = left.get(at)![0]!;
  }
  return { ok: false, cycle: path.slice(path.indexOf(at)).reverse() };
}
