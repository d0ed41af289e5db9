// The engine's unit of work: the runs a batch of events touches, locked (FOR UPDATE, in id order) and loaded with
// their step runs, changed in memory, and written back set-wise in the caller's transaction with the events that
// tell what changed. Every path that changes a run goes through here, so a run is only ever changed under its lock,
// and a crash at any moment leaves either the whole change (state + events) or none of it.
import { deterministicId, makeEvent, type ErrorInfo, type EventData, type EventKey, type JsonObject, type OutputRef } from '@steward/contracts';
import { Prisma, skillInvokeEvent, skillRoutes, type DispatchSkillParams, type OutboxMessage, type SkillRoute, type SqlClient, type StepRunStatus, type UnitOfWorkContext, type WorkflowRunStatus } from '@steward/state';
import { ExpressionError, type CompiledStep, type CompiledWorkflow, type Scope } from '@steward/workflows';
import { randomUUID } from 'node:crypto';
import { compiledDefinition, resolveDefinition } from '../definitions/definition-cache.js';
import { retryDelayMs } from './backoff.js';
import type { RunCache } from './run-cache.js';

export const SOURCE = 'steward/workflow-runner';

export interface EngineConfig {
  /** Attempts of steps whose definition sets no retry.max_attempts. */
  defaultMaxAttempts: number;
  /** Added to a skill's timeout before the runner gives up on an attempt the worker never reported. */
  deadlineGraceMs: number;
  /**
   * Every step asks its worker to report when it starts (step.run.started) and then a heartbeat this often; a step
   * with heartbeat_timeout beats at a third of it instead and is failed when the beats stop.
   */
  progressIntervalMs: number;
  /** Told of every time something becomes due, so the timer loop can wake then rather than at its next poll. */
  wakeAt?: (at: Date) => void;
  /** Runs as this process committed them last: step results for them skip reading the run (see RunCache). */
  runCache?: RunCache;
}

export interface StepRow {
  id: string;
  runId: string;
  stepPath: string;
  status: StepRunStatus;
  attempt: number;
  input: unknown;
  output: unknown;
  error: unknown;
  scheduledAt: Date | null;
  startedAt: Date | null;
  completedAt: Date | null;
  nextAttemptAt: Date | null;
  deadlineAt: Date | null;
  /** The worker holding the current attempt (from its started report), with leaseExpiresAt its lease. */
  leaseOwner: string | null;
  leaseExpiresAt: Date | null;
  waitFor: string | null;
  waitKey: string | null;
  parentPath: string | null;
}

export interface RunRow {
  id: string;
  taskId: string;
  tenantId: string;
  definitionId: string;
  status: WorkflowRunStatus;
  input: JsonObject;
  output: unknown;
  error: unknown;
  parentRunId: string | null;
  parentStepRunId: string | null;
  deadlineAt: Date | null;
  startedAt: Date | null;
  completedAt: Date | null;
  /** Raised by every write to the run or its steps (what a claim of a cached copy checks). */
  version: number;
}

export interface RunState {
  row: RunRow;
  def: CompiledWorkflow;
  steps: Map<string, StepRow>;
  /** Inserted (not updated) at flush; depth orders inserts so a parent's rows exist before a child's. */
  isNew: boolean;
  depth: number;
  dirty: boolean;
}

const ACTIVE_STEP: ReadonlySet<StepRunStatus> = new Set(['scheduled', 'running', 'waiting']);
const DONE_STEP: ReadonlySet<StepRunStatus> = new Set(['completed', 'skipped']);
const ENDED_RUN: ReadonlySet<WorkflowRunStatus> = new Set(['completed', 'failed', 'cancelled']);

export const isEnded = (run: RunState): boolean => ENDED_RUN.has(run.row.status);
export const childPath = (parent: string, index: number): string => `${parent}[${index}]`;

type StepSnapshot = Omit<StepRow, 'id' | 'runId' | 'stepPath' | 'parentPath'>;

export class RunBatch {
  readonly runs = new Map<string, RunState>();
  private readonly stepsById = new Map<string, StepRow>();
  /** Runs whose steps may now be ready: advanced before flush. */
  private readonly touched = new Set<string>();
  private readonly dirtySteps = new Map<string, StepRow>();
  private readonly newSteps = new Map<string, StepRow>();
  private readonly dispatches: { p: DispatchSkillParams; route: SkillRoute }[] = [];
  private readonly cancels: { invocationId: string; tenantId: string; taskId: string; reason: string }[] = [];
  /** Results of current attempts, written to their skill invocations with the rest. */
  private readonly results: { invocationId: string; attempt: number; status: 'completed' | 'failed'; output: unknown; error: unknown }[] = [];
  readonly now = new Date();

  constructor(
    readonly ctx: UnitOfWorkContext<SqlClient>,
    readonly config: EngineConfig,
    /** The event that caused this change (causation of everything emitted). */
    readonly causationId: string,
  ) {}

  // ------------------------------------------------------------------ loading

  /** Locks and loads runs (and their steps) not loaded yet. Returns all asked for that exist. */
  async load(runIds: Iterable<string>): Promise<RunState[]> {
    const want = [...new Set(runIds)];
    const missing = want.filter((id) => !this.runs.has(id));
    if (missing.length > 0) await this.lockAndRead(missing, []);
    return want.map((id) => this.runs.get(id)).filter((r): r is RunState => r !== undefined);
  }

  /**
   * Locks and loads the runs that own these step runs (one statement less than finding them first). When the cache
   * holds them all, they come from there instead, and a claim (steward_claim_runs: lock, check the versions) goes
   * ahead of the transaction's next statement — with the write and the COMMIT when it is the only one. A stale copy
   * fails the claim with 40001, which rolls everything back; the consumer runs the batch again, reading the runs.
   */
  async loadByStepRunIds(stepRunIds: readonly string[]): Promise<void> {
    const cached = this.runs.size === 0 ? this.config.runCache?.take(stepRunIds) : undefined;
    if (cached === undefined) return this.lockAndRead([], stepRunIds);
    for (const run of cached) {
      Object.assign(run, { isNew: false, depth: 0, dirty: false });
      this.runs.set(run.row.id, run);
      for (const row of run.steps.values()) this.stepsById.set(row.id, row);
    }
    // The versions as cached, before this batch's write raises them.
    await this.ctx.executeDeferred(Prisma.sql`SELECT steward_claim_runs(${cached.map((r) => r.row.id)}::text[], ${cached.map((r) => r.row.version)}::int[])`);
  }

  /**
   * One round trip: steward_lock_runs (a migration's PL/pgSQL function) locks the runs in id order, then reads their
   * steps in a statement of its own, so a change committed while it waited for a lock is seen.
   */
  private async lockAndRead(runIds: readonly string[], stepRunIds: readonly string[]): Promise<void> {
    const [found] = await this.ctx.tx.$queryRaw<{ locked: { runs: RunRowJson[]; steps: StepRowJson[] } }[]>`
      SELECT steward_lock_runs(${runIds}::text[], ${stepRunIds}::text[], ${[...this.runs.keys()]}::text[]) AS locked`;
    const { runs, steps } = found!.locked;
    for (const r of runs) {
      if (this.runs.has(r.id)) continue;
      const def = await compiledDefinition(this.ctx.tx, r.definition_id);
      this.runs.set(r.id, { row: fromDb(r), def, steps: new Map(), isNew: false, depth: 0, dirty: false });
    }
    for (const s of steps) {
      const row = stepFromDb(s);
      this.runs.get(s.run_id)!.steps.set(s.step_path, row);
      this.stepsById.set(row.id, row);
    }
  }

  /** The run that owns a step run id, among loaded runs. */
  findStep(stepRunId: string): { run: RunState; row: StepRow } | undefined {
    const row = this.stepsById.get(stepRunId);
    const run = row && this.runs.get(row.runId);
    return run && row ? { run, row } : undefined;
  }

  /** The compiled step a row runs (a for_each element runs its parent's step). */
  stepDef(run: RunState, row: StepRow): CompiledStep {
    const step = run.def.byId.get(row.parentPath ?? row.stepPath);
    if (!step) throw new Error(`step ${row.stepPath} is not in ${run.def.name}@${run.def.version}`);
    return step;
  }

  // ------------------------------------------------------------------ creating runs

  /** A new run pinned to a definition row, with a pending step run per step; advanced at flush. */
  createRun(p: { id: string; taskId: string; tenantId: string; definitionId: string; def: CompiledWorkflow; input: JsonObject; parent?: { run: RunState; row: StepRow } }): RunState {
    const row: RunRow = {
      id: p.id,
      taskId: p.taskId,
      tenantId: p.tenantId,
      definitionId: p.definitionId,
      status: 'running',
      input: p.input,
      output: null,
      error: null,
      parentRunId: p.parent?.run.row.id ?? null,
      parentStepRunId: p.parent?.row.id ?? null,
      deadlineAt: p.def.timeoutMs ? new Date(this.now.getTime() + p.def.timeoutMs) : null,
      startedAt: this.now,
      completedAt: null,
      version: 0,
    };
    if (row.deadlineAt) this.config.wakeAt?.(row.deadlineAt);
    const run: RunState = { row, def: p.def, steps: new Map(), isNew: true, depth: p.parent ? p.parent.run.depth + 1 : 0, dirty: false };
    this.runs.set(row.id, run);
    for (const s of p.def.steps) this.addStep(run, s.id, null);
    this.emitRun(run, 'workflow.run.started.v1', { workflow: p.def.name, version: p.def.version });
    this.touched.add(row.id);
    return run;
  }

  private addStep(run: RunState, stepPath: string, parentPath: string | null): StepRow {
    const row: StepRow = {
      id: randomUUID(),
      runId: run.row.id,
      stepPath,
      status: 'pending',
      attempt: 0,
      input: null,
      output: null,
      error: null,
      scheduledAt: null,
      startedAt: null,
      completedAt: null,
      nextAttemptAt: null,
      deadlineAt: null,
      leaseOwner: null,
      leaseExpiresAt: null,
      waitFor: null,
      waitKey: null,
      parentPath,
    };
    run.steps.set(stepPath, row);
    this.stepsById.set(row.id, row);
    this.newSteps.set(row.id, row);
    return row;
  }

  private set(row: StepRow, patch: Partial<StepSnapshot>): void {
    Object.assign(row, patch);
    for (const t of [patch.nextAttemptAt, patch.deadlineAt, patch.leaseExpiresAt]) if (t) this.config.wakeAt?.(t);
    if (!this.newSteps.has(row.id)) this.dirtySteps.set(row.id, row);
  }

  private setRun(run: RunState, patch: Partial<RunRow>): void {
    Object.assign(run.row, patch);
    run.dirty = true;
  }

  // ------------------------------------------------------------------ events

  emitRun<K extends 'workflow.run.started.v1' | 'workflow.run.completed.v1' | 'workflow.run.failed.v1' | 'workflow.run.parked.v1' | 'workflow.run.resumed.v1' | 'workflow.run.cancelled.v1'>(
    run: RunState,
    key: K,
    data: Omit<EventData<K>, 'runId' | 'taskId' | 'parentRunId'>,
  ): void {
    const ref = { runId: run.row.id, taskId: run.row.taskId, ...(run.row.parentRunId ? { parentRunId: run.row.parentRunId } : {}) };
    this.emit(run, key, { ...ref, ...data } as EventData<K>);
  }

  emitStep<K extends EventKey & `step.run.${string}`>(run: RunState, row: StepRow, key: K, data: Omit<EventData<K>, 'runId' | 'stepRunId' | 'stepPath' | 'attempt'> & { attempt?: number }): void {
    this.emit(run, key, { runId: run.row.id, stepRunId: row.id, stepPath: row.stepPath, attempt: row.attempt, ...data } as EventData<K>);
  }

  private emit<K extends EventKey>(run: RunState, key: K, data: EventData<K>): void {
    this.ctx.emit(makeEvent(key, data, { source: SOURCE, tenantId: run.row.tenantId, correlationId: run.row.taskId, subject: run.row.id, causationId: this.causationId, time: this.now }));
  }

  // ------------------------------------------------------------------ advancing

  /** Marks a run to be advanced before flush (after a step finished, or it resumed). */
  touch(run: RunState): void {
    this.touched.add(run.row.id);
  }

  /** Advances every touched run until nothing more can start now (finishing a child run touches its parent). */
  async settle(): Promise<void> {
    while (this.touched.size > 0) {
      const [id] = this.touched;
      this.touched.delete(id!);
      const run = this.runs.get(id!);
      if (run) await this.advance(run);
    }
  }

  /** Starts every pending step whose dependencies are done (or skips it), feeds for_each fan-outs, ends the run when all is done. */
  private async advance(run: RunState): Promise<void> {
    if (run.row.status !== 'running') return;
    for (const step of run.def.steps) {
      const row = run.steps.get(step.id)!;
      if (row.status === 'waiting' && row.waitFor === 'items') {
        await this.pumpForEach(run, step, row);
        continue;
      }
      if (row.status !== 'pending' || !step.deps.every((d) => DONE_STEP.has(run.steps.get(d)!.status))) continue;
      try {
        if (step.when && step.when.evaluate(this.scope(run)) !== true) {
          this.set(row, { status: 'skipped', completedAt: this.now });
          this.emitStep(run, row, 'step.run.skipped.v1', { reason: 'condition_false' });
          continue;
        }
      } catch (err) {
        await this.failAttempt(run, row, expressionError(err));
        continue;
      }
      await this.startStep(run, row);
      if (run.row.status !== 'running') return;
    }
    if (run.def.steps.every((s) => DONE_STEP.has(run.steps.get(s.id)!.status))) await this.completeRun(run);
  }

  private scope(run: RunState): Scope {
    const steps: Scope['steps'] = {};
    for (const s of run.def.steps) {
      const row = run.steps.get(s.id)!;
      steps[s.id] = { output: row.output ?? null, status: row.status };
    }
    return { inputs: run.row.input, steps };
  }

  /** A step's input: its `with` rendered, or by default its single predecessor's output, its predecessors' outputs, or the run input. */
  private inputOf(run: RunState, step: CompiledStep, element?: { item: unknown; index: number }): JsonObject {
    if (step.with) return asInput(step.with.render({ ...this.scope(run), ...(element ?? {}) }));
    if (element) return asInput(element.item);
    if (step.deps.length === 0) return run.row.input;
    if (step.deps.length === 1) return asInput(run.steps.get(step.deps[0]!)!.output);
    return Object.fromEntries(step.deps.map((d) => [d, run.steps.get(d)!.output ?? null]));
  }

  /** Starts the next attempt of a step run: dispatches its skill, starts its child run, asks for its decision, or begins its wait. */
  async startStep(run: RunState, row: StepRow): Promise<void> {
    const step = this.stepDef(run, row);
    const attempt = row.attempt + 1;
    const base: Partial<StepSnapshot> = { attempt, scheduledAt: this.now, startedAt: null, error: null, nextAttemptAt: null, leaseOwner: null, leaseExpiresAt: null, waitFor: null, waitKey: null, deadlineAt: null };
    if (step.forEach && row.parentPath === null) {
      let items: unknown;
      try {
        items = step.forEach.items.evaluate(this.scope(run));
      } catch (err) {
        return this.failAttempt(run, row, expressionError(err));
      }
      if (!Array.isArray(items)) return this.failAttempt(run, row, { code: 'expression_error', message: `for_each.items of step ${step.id} gave ${typeof items}, not a list`, retryable: false });
      this.set(row, { ...base, status: 'waiting', waitFor: 'items', input: { items } });
      this.emitStep(run, row, 'step.run.waiting.v1', { for: 'items' });
      items.forEach((_, i) => this.addStep(run, childPath(step.id, i), step.id));
      return this.pumpForEach(run, step, row);
    }
    let input: JsonObject;
    try {
      input = this.inputOf(run, step, row.parentPath === null ? undefined : elementOf(run, row));
    } catch (err) {
      return this.failAttempt(run, row, expressionError(err));
    }
    switch (step.kind) {
      case 'skill': {
        const route = (await skillRoutes(this.ctx.tx, [step.skill!])).get(step.skill!);
        if (!route) return this.failAttempt(run, row, { code: 'unknown_skill', message: `no skill named "${step.skill}" is registered`, retryable: false });
        const timeoutMs = step.timeoutMs ?? route.timeoutMs;
        const hb = step.heartbeatTimeoutMs;
        this.set(row, { ...base, status: 'scheduled', input, deadlineAt: new Date(this.now.getTime() + timeoutMs + this.config.deadlineGraceMs), ...(hb ? { leaseExpiresAt: new Date(this.now.getTime() + hb) } : {}) });
        const p: DispatchSkillParams = { invocationId: row.id, tenantId: run.row.tenantId, taskId: run.row.taskId, stepRunId: row.id, requester: 'workflow-runner', skill: step.skill!, input, attempt, timeoutMs, heartbeatMs: hb ? Math.max(100, Math.floor(hb / 3)) : this.config.progressIntervalMs, source: SOURCE, causationId: this.causationId };
        this.dispatches.push({ p, route });
        this.ctx.emit(skillInvokeEvent(p, route));
        this.emitStep(run, row, 'step.run.scheduled.v1', {});
        return;
      }
      case 'workflow': {
        const target = step.workflow!;
        const found = await resolveDefinition(this.ctx.tx, run.row.tenantId, target.name, target.version);
        if (!found) return this.failAttempt(run, row, { code: 'unknown_workflow', message: `workflow ${target.name}${target.version ? `@${target.version}` : ''} is not registered`, retryable: false });
        const problems = found.def.checkInput(input);
        if (problems.length > 0) return this.failAttempt(run, row, { code: 'invalid_input', message: `input of child workflow ${target.name}: ${problems.join('; ')}`, retryable: false });
        const childId = deterministicId(row.id, String(attempt), 'child-run');
        this.set(row, { ...base, status: 'waiting', input, waitFor: 'child_run', waitKey: childId, ...this.deadline(step) });
        this.emitStep(run, row, 'step.run.waiting.v1', { for: 'child_run', key: childId });
        this.createRun({ id: childId, taskId: run.row.taskId, tenantId: run.row.tenantId, definitionId: found.id, def: found.def, input, parent: { run, row } });
        return;
      }
      case 'decision': {
        const d = step.decision!;
        const scope = this.scope(run);
        let proposal: unknown;
        let context: JsonObject;
        try {
          proposal = d.proposal?.render(scope);
          context = d.context ? asInput(d.context.render(scope)) : {};
        } catch (err) {
          return this.failAttempt(run, row, expressionError(err));
        }
        const decisionId = deterministicId(row.id, String(attempt), 'decision');
        this.set(row, { ...base, status: 'waiting', input, waitFor: 'decision', waitKey: decisionId, ...this.deadline(step) });
        this.emit(run, 'decision.requested.v1', {
          decisionId,
          tenantId: run.row.tenantId,
          taskId: run.row.taskId,
          runId: run.row.id,
          stepRunId: row.id,
          type: d.type,
          options: d.options,
          ...(typeof proposal === 'string' && proposal.length > 0 ? { proposal } : {}),
          context: { ...context, workflow: run.def.name, step: step.id },
          ...(d.fallback ? { fallback: d.fallback } : {}),
          ...(d.fallbackAfterMs !== undefined ? { fallbackAt: new Date(this.now.getTime() + d.fallbackAfterMs).toISOString() } : {}),
        });
        this.emitStep(run, row, 'step.run.waiting.v1', { for: 'decision', key: decisionId });
        return;
      }
      case 'wait': {
        const w = step.wait!;
        if (w.kind === 'duration') {
          const until = new Date(this.now.getTime() + w.ms);
          this.set(row, { ...base, status: 'waiting', input, waitFor: 'timer', nextAttemptAt: until });
          this.emitStep(run, row, 'step.run.waiting.v1', { for: 'timer', until: until.toISOString() });
          return;
        }
        let key: string | undefined;
        try {
          const k = w.key?.render(this.scope(run));
          key = k === undefined || k === null ? undefined : typeof k === 'string' ? k : JSON.stringify(k);
        } catch (err) {
          return this.failAttempt(run, row, expressionError(err));
        }
        const waitKey = eventWaitKey(w.event, key);
        const deadline = w.timeoutMs ? { deadlineAt: new Date(this.now.getTime() + w.timeoutMs) } : {};
        this.set(row, { ...base, status: 'waiting', input, waitFor: 'event', waitKey, ...deadline });
        // Serialised with the arrival of events of this name (see external-events): none falls between the look back and the wait.
        await lockEventName(this.ctx, run.row.tenantId, w.event);
        const since = new Date(this.now.getTime() - w.lookbackMs);
        const [hit] = await this.ctx.tx.$queryRaw<{ id: string; key: string | null; data: unknown; received_at: Date }[]>`
          SELECT id, key, data, received_at FROM external_events
           WHERE tenant_id = ${run.row.tenantId} AND name = ${w.event} AND received_at >= ${since}
             AND (${key ?? null}::text IS NULL OR key = ${key ?? null}::text)
           ORDER BY received_at DESC LIMIT 1`;
        if (hit) return this.completeStep(run, row, { event: w.event, key: hit.key, data: hit.data ?? null, eventId: hit.id, receivedAt: hit.received_at.toISOString() });
        this.emitStep(run, row, 'step.run.waiting.v1', { for: 'event', key: waitKey, ...(deadline.deadlineAt ? { until: deadline.deadlineAt.toISOString() } : {}) });
        return;
      }
    }
  }

  private deadline(step: CompiledStep): Partial<StepSnapshot> {
    return step.timeoutMs ? { deadlineAt: new Date(this.now.getTime() + step.timeoutMs) } : {};
  }

  /** Keeps up to `concurrency` elements of a fan-out in flight; completes the step when every element is done. */
  private async pumpForEach(run: RunState, step: CompiledStep, parent: StepRow): Promise<void> {
    const children = [...run.steps.values()].filter((r) => r.parentPath === step.id).sort((a, b) => indexOf(a) - indexOf(b));
    if (children.every((c) => DONE_STEP.has(c.status))) {
      return this.completeStep(run, parent, children.map((c) => c.output ?? null));
    }
    if (run.row.status !== 'running') return;
    let active = children.filter((c) => ACTIVE_STEP.has(c.status)).length;
    for (const c of children) {
      if (active >= step.forEach!.concurrency) break;
      if (c.status !== 'pending') continue;
      await this.startStep(run, c);
      if (ACTIVE_STEP.has(c.status)) active++;
      if (run.row.status !== 'running') return;
    }
    if (children.every((c) => DONE_STEP.has(c.status))) return this.completeStep(run, parent, children.map((c) => c.output ?? null));
  }

  /** The skill's result for the step's current attempt (the caller checked it is current): recorded on its invocation at flush. */
  recordSkillResult(row: StepRow, result: { status: 'completed'; output: unknown } | { status: 'failed'; error: unknown }): void {
    this.results.push({ invocationId: row.id, attempt: row.attempt, status: result.status, output: result.status === 'completed' ? result.output : null, error: result.status === 'failed' ? result.error : null });
  }

  /** The step gives up the decision it waits for: the escalation service takes it out of the person's inbox. */
  private withdrawDecision(run: RunState, row: StepRow, reason: string): void {
    const d = this.stepDef(run, row).decision;
    if (row.status !== 'waiting' || row.waitFor !== 'decision' || !row.waitKey || !d) return;
    this.emit(run, 'decision.withdrawn.v1', { decisionId: row.waitKey, tenantId: run.row.tenantId, type: d.type, options: d.options, reason });
  }

  /**
   * Marks the step's invocation cancelled at flush and tells every worker to stop its current attempt. The invocation
   * id is the step run's, the same for every attempt, so the cancel names the attempt: a retry is not stopped by it.
   */
  private cancelInvocation(run: RunState, row: StepRow, reason: string): void {
    this.cancels.push({ invocationId: row.id, tenantId: run.row.tenantId, taskId: run.row.taskId, reason });
    this.emit(run, 'skill.invocation.cancel.v1', { invocationId: row.id, tenantId: run.row.tenantId, reason, ...(row.attempt > 0 ? { attempt: row.attempt } : {}) });
  }

  /**
   * The worker took the attempt up (started, or a result that says when it began) or is alive (heartbeat): the
   * attempt is leased to that worker and the lease runs on.
   */
  markRunning(run: RunState, row: StepRow, worker: string, heartbeatTimeoutMs: number | undefined, started: boolean, startedAt?: Date): void {
    const lease = heartbeatTimeoutMs ? { leaseExpiresAt: new Date(this.now.getTime() + heartbeatTimeoutMs) } : {};
    if (row.status === 'scheduled') {
      this.set(row, { status: 'running', startedAt: startedAt ?? this.now, leaseOwner: worker, ...lease });
      this.emitStep(run, row, 'step.run.started.v1', {});
    } else if (!started) this.set(row, lease);
  }

  // ------------------------------------------------------------------ finishing steps

  /** A step run finished its current attempt with an output. */
  async completeStep(run: RunState, row: StepRow, output: unknown, outputRef?: OutputRef): Promise<void> {
    this.set(row, { status: 'completed', output: output ?? null, completedAt: this.now, nextAttemptAt: null, deadlineAt: null, leaseOwner: null, leaseExpiresAt: null, waitFor: null, waitKey: null, error: null });
    // An output that came by reference stays off the bus: the event carries the reference, the row the output.
    this.emitStep(run, row, 'step.run.completed.v1', outputRef ? { output: null, outputRef } : { output: output ?? null });
    await this.afterStepDone(run, row);
  }

  /** An operator skipped a parked step with an output its dependants read. */
  async skipStep(run: RunState, row: StepRow, output: unknown): Promise<void> {
    this.set(row, { status: 'skipped', output: output ?? null, completedAt: this.now, nextAttemptAt: null, deadlineAt: null, leaseExpiresAt: null, waitFor: null, waitKey: null });
    this.emitStep(run, row, 'step.run.skipped.v1', { reason: 'skipped_by_operator', output: output ?? null });
    await this.afterStepDone(run, row);
  }

  private async afterStepDone(run: RunState, row: StepRow): Promise<void> {
    if (row.parentPath !== null) {
      const parent = run.steps.get(row.parentPath);
      if (parent?.status === 'waiting') await this.pumpForEach(run, this.stepDef(run, parent), parent);
    }
    this.touch(run);
  }

  /**
   * The current attempt failed: retried after its back-off while attempts and the error allow, otherwise the step
   * parks and so does the run (nothing fails silently, nothing loops).
   */
  async failAttempt(run: RunState, row: StepRow, error: ErrorInfo): Promise<void> {
    const step = this.stepDef(run, row);
    const max = step.retry.maxAttempts ?? this.config.defaultMaxAttempts;
    const attempt = Math.max(row.attempt, 1);
    const retry = error.retryable && !step.retry.nonRetryable.has(error.code) && attempt < max && row.attempt > 0;
    const cleared = { deadlineAt: null, leaseOwner: null, leaseExpiresAt: null, waitKey: null } as const;
    if (retry) {
      const retryAt = new Date(this.now.getTime() + retryDelayMs(step.retry.backoff, attempt));
      this.set(row, { ...cleared, status: 'waiting', waitFor: 'retry', nextAttemptAt: retryAt, error });
      this.emitStep(run, row, 'step.run.failed.v1', { attempt, error, retryAt: retryAt.toISOString() });
      this.emitStep(run, row, 'step.run.waiting.v1', { for: 'retry', until: retryAt.toISOString() });
      return;
    }
    this.set(row, { ...cleared, status: 'parked', waitFor: null, nextAttemptAt: null, error });
    if (row.attempt > 0) this.emitStep(run, row, 'step.run.failed.v1', { attempt, error });
    this.emitStep(run, row, 'step.run.parked.v1', { error });
    if (run.row.status === 'running') {
      this.setRun(run, { status: 'parked' });
      this.emitRun(run, 'workflow.run.parked.v1', { stepPath: row.stepPath, error });
    }
  }

  /** The attempt ran out of time (deadline or heartbeat lease): stop what runs it, then fail the attempt. */
  async timeOutAttempt(run: RunState, row: StepRow, error: ErrorInfo): Promise<void> {
    const step = this.stepDef(run, row);
    const child = row.waitFor === 'child_run' ? row.waitKey : null;
    if (step.kind === 'skill' && (row.status === 'scheduled' || row.status === 'running')) {
      this.cancelInvocation(run, row, error.message);
    }
    this.withdrawDecision(run, row, error.message);
    await this.failAttempt(run, row, error);
    if (child) for (const c of await this.load([child])) await this.cancelRun(c, error.message);
  }

  /** Operator: run a parked step again (a new attempt), or skip it with an output; the run resumes when nothing else is parked. */
  async resume(run: RunState, row: StepRow, action: { kind: 'retry' } | { kind: 'skip'; output: unknown }): Promise<boolean> {
    if (row.status !== 'parked' || isEnded(run)) return false;
    // The step goes on at once; the run itself resumes when no other step is parked.
    if (action.kind === 'skip') await this.skipStep(run, row, action.output);
    else await this.startStep(run, row);
    if (run.row.status === 'parked' && ![...run.steps.values()].some((s) => s.status === 'parked')) {
      this.setRun(run, { status: 'running' });
      this.emitRun(run, 'workflow.run.resumed.v1', { action: action.kind, stepPath: row.stepPath });
    }
    this.touch(run);
    return true;
  }

  // ------------------------------------------------------------------ finishing runs

  private async completeRun(run: RunState): Promise<void> {
    let output: unknown;
    try {
      output = run.def.outputs ? run.def.outputs.render(this.scope(run)) : defaultOutput(run);
    } catch (err) {
      return this.failRun(run, expressionError(err));
    }
    this.setRun(run, { status: 'completed', output: output ?? null, completedAt: this.now });
    this.emitRun(run, 'workflow.run.completed.v1', { output: output ?? null });
    const parent = await this.parentStep(run);
    if (parent) await this.completeStep(parent.run, parent.row, output);
  }

  /** Ends a run as failed (its deadline passed): stops its work; a parent's step fails with the same error. */
  async failRun(run: RunState, error: ErrorInfo): Promise<void> {
    if (isEnded(run)) return;
    await this.stopSteps(run, error.message);
    this.setRun(run, { status: 'failed', error, completedAt: this.now });
    this.emitRun(run, 'workflow.run.failed.v1', { error });
    const parent = await this.parentStep(run);
    if (parent) await this.failAttempt(parent.run, parent.row, { code: 'child_failed', message: `child run ${run.row.id} (${run.def.name}) failed: ${error.message}`, retryable: false, details: error });
  }

  /** Cancels a run, its running steps (workers are told to stop) and its child runs. */
  async cancelRun(run: RunState, reason: string): Promise<boolean> {
    if (isEnded(run)) return false;
    await this.stopSteps(run, reason);
    this.setRun(run, { status: 'cancelled', completedAt: this.now, error: { code: 'cancelled', message: reason, retryable: false } });
    this.emitRun(run, 'workflow.run.cancelled.v1', { reason });
    const parent = await this.parentStep(run);
    if (parent && !isEnded(parent.run)) await this.failAttempt(parent.run, parent.row, { code: 'child_cancelled', message: `child run ${run.row.id} was cancelled: ${reason}`, retryable: false });
    return true;
  }

  private async stopSteps(run: RunState, reason: string): Promise<void> {
    const children: string[] = [];
    for (const row of run.steps.values()) {
      if (!ACTIVE_STEP.has(row.status) && row.status !== 'pending' && row.status !== 'parked') continue;
      const step = this.stepDef(run, row);
      if (step.kind === 'skill' && (row.status === 'scheduled' || row.status === 'running')) {
        this.cancelInvocation(run, row, reason);
      }
      if (row.waitFor === 'child_run' && row.waitKey) children.push(row.waitKey);
      this.withdrawDecision(run, row, reason);
      const wasActive = row.status !== 'pending';
      this.set(row, { status: 'cancelled', completedAt: this.now, nextAttemptAt: null, deadlineAt: null, leaseExpiresAt: null, waitFor: null, waitKey: null });
      if (wasActive) this.emitStep(run, row, 'step.run.cancelled.v1', {});
    }
    for (const child of await this.load(children)) await this.cancelRun(child, `parent run ${run.row.id} ended: ${reason}`);
  }

  /** The step of the parent run that waits for this child run, if it still does. */
  private async parentStep(run: RunState): Promise<{ run: RunState; row: StepRow } | undefined> {
    if (!run.row.parentRunId) return undefined;
    const [parent] = await this.load([run.row.parentRunId]);
    const row = parent && [...parent.steps.values()].find((s) => s.id === run.row.parentStepRunId);
    if (!parent || !row || row.status !== 'waiting' || row.waitFor !== 'child_run' || row.waitKey !== run.row.id) return undefined;
    return { run: parent, row };
  }

  // ------------------------------------------------------------------ writing

  /**
   * Advances touched runs, then writes every change set-wise: new runs and steps (inserted parents first), then one
   * statement for all the rest — changed step runs and runs, dispatched attempts, results and cancellations of skill
   * invocations. Statements are what a step costs here, so they are few and do not grow with the batch.
   */
  async flush(): Promise<void> {
    await this.settle();
    // Every run whose row or steps change gets its version raised (which makes other cached copies stale).
    const changed = new Set([...this.dirtySteps.values(), ...this.newSteps.values()].map((s) => s.runId));
    const updated = [...this.runs.values()].filter((r) => !r.isNew && (r.dirty || changed.has(r.row.id))).map((r) => r.row);
    await writeChanges(this.ctx, {
      newRuns: [...this.runs.values()].filter((r) => r.isNew),
      newSteps: [...this.newSteps.values()],
      steps: [...this.dirtySteps.values()],
      runs: updated,
      dispatches: this.dispatches,
      results: this.results,
      cancels: this.cancels,
      outbox: this.ctx.takeOutbox(),
      now: this.now,
    });
    for (const row of updated) row.version += 1;
    const cache = this.config.runCache;
    if (cache) this.ctx.afterCommit(() => cache.put(this.runs.values(), isEnded));
  }
}

// ------------------------------------------------------------------ helpers

/** Output and input are objects; anything else travels as `{ value }`. */
export function asInput(v: unknown): JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject) : v === null || v === undefined ? {} : { value: v };
}

export const eventWaitKey = (event: string, key: string | undefined): string => `${event}|${key ?? ''}`;

/** Event arrivals and event waits of one tenant and name take this lock in their transaction. */
export async function lockEventName(ctx: UnitOfWorkContext<SqlClient>, tenantId: string, name: string): Promise<void> {
  await ctx.tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`${tenantId}|${name}`}, 7))`;
}

function expressionError(err: unknown): ErrorInfo {
  if (err instanceof ExpressionError) return { code: 'expression_error', message: err.message, retryable: false };
  throw err;
}

const indexOf = (row: StepRow): number => Number(/\[(\d+)\]$/.exec(row.stepPath)?.[1] ?? 0);

function elementOf(run: RunState, row: StepRow): { item: unknown; index: number } {
  const parent = run.steps.get(row.parentPath!)!;
  const index = indexOf(row);
  return { item: (parent.input as { items: unknown[] }).items[index] ?? null, index };
}

function defaultOutput(run: RunState): unknown {
  const last = run.def.lastStage;
  if (last.length === 1) return run.steps.get(last[0]!)!.output ?? null;
  return Object.fromEntries(last.map((id) => [id, run.steps.get(id)!.output ?? null]));
}

/** Timestamps arrive as JSON strings (ISO 8601 with an offset) from steward_lock_runs. */
type Timestamp = string | null;
const date = (t: Timestamp): Date | null => (t === null ? null : new Date(t));

interface StepRowJson {
  id: string;
  run_id: string;
  step_path: string;
  status: StepRunStatus;
  attempt: number;
  input: unknown;
  output: unknown;
  error: unknown;
  scheduled_at: Timestamp;
  started_at: Timestamp;
  completed_at: Timestamp;
  next_attempt_at: Timestamp;
  deadline_at: Timestamp;
  lease_owner: string | null;
  lease_expires_at: Timestamp;
  wait_for: string | null;
  wait_key: string | null;
  parent_path: string | null;
}

const stepFromDb = (s: StepRowJson): StepRow => ({
  id: s.id,
  runId: s.run_id,
  stepPath: s.step_path,
  status: s.status,
  attempt: s.attempt,
  input: s.input,
  output: s.output,
  error: s.error,
  scheduledAt: date(s.scheduled_at),
  startedAt: date(s.started_at),
  completedAt: date(s.completed_at),
  nextAttemptAt: date(s.next_attempt_at),
  deadlineAt: date(s.deadline_at),
  leaseOwner: s.lease_owner,
  leaseExpiresAt: date(s.lease_expires_at),
  waitFor: s.wait_for,
  waitKey: s.wait_key,
  parentPath: s.parent_path,
});

interface RunRowJson {
  id: string;
  task_id: string;
  tenant_id: string;
  definition_id: string;
  status: WorkflowRunStatus;
  input: JsonObject;
  output: unknown;
  error: unknown;
  parent_run_id: string | null;
  parent_step_run_id: string | null;
  deadline_at: Timestamp;
  started_at: Timestamp;
  completed_at: Timestamp;
  version: number;
}

const fromDb = (r: RunRowJson): RunRow => ({
  id: r.id,
  taskId: r.task_id,
  tenantId: r.tenant_id,
  definitionId: r.definition_id,
  status: r.status,
  input: r.input,
  output: r.output,
  error: r.error,
  parentRunId: r.parent_run_id,
  parentStepRunId: r.parent_step_run_id,
  deadlineAt: date(r.deadline_at),
  startedAt: date(r.started_at),
  completedAt: date(r.completed_at),
  version: r.version,
});

const j = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v));

/** One statement (with the events so far, into the outbox): data-modifying CTEs each run once, whether or not the final SELECT reads them. */
async function writeChanges(
  ctx: UnitOfWorkContext<SqlClient>,
  w: {
    newRuns: RunState[];
    newSteps: StepRow[];
    steps: StepRow[];
    runs: RunRow[];
    dispatches: { p: DispatchSkillParams; route: SkillRoute }[];
    results: { invocationId: string; attempt: number; status: string; output: unknown; error: unknown }[];
    cancels: { invocationId: string }[];
    outbox: OutboxMessage[];
    now: Date;
  },
): Promise<void> {
  // A row may be changed by one CTE only: a new attempt supersedes a result or a cancellation of the same invocation.
  const dispatched = new Set(w.dispatches.map((d) => d.p.invocationId));
  const cancelled = new Set(w.cancels.map((c) => c.invocationId).filter((id) => !dispatched.has(id)));
  const results = w.results.filter((r) => !dispatched.has(r.invocationId) && !cancelled.has(r.invocationId));
  const o = <T>(f: (m: OutboxMessage) => T): T[] => w.outbox.map(f);
  const c = <T>(f: (r: StepRow) => T): T[] => w.steps.map(f);
  const r = <T>(f: (r: RunRow) => T): T[] => w.runs.map(f);
  const d = <T>(f: (x: { p: DispatchSkillParams; route: SkillRoute }) => T): T[] => w.dispatches.map(f);
  const nr = <T>(f: (r: RunState) => T): T[] => w.newRuns.map(f);
  const ns = <T>(f: (r: StepRow) => T): T[] => w.newSteps.map(f);
  // New runs and steps are inserted by the same statement as the rows that refer to them (a child run's parent step,
  // a first step's skill invocation): foreign keys are checked at the end of the statement, when all are there.
  // Only the parts with rows: a smaller statement to parse and plan (it usually goes with the COMMIT, unprepared).
  const parts: Prisma.Sql[] = [];
  if (w.newRuns.length > 0) {
    parts.push(Prisma.sql`new_runs AS (
      INSERT INTO workflow_runs (id, task_id, tenant_id, definition_id, workflow_name, workflow_version, status, input, output, error, parent_run_id, parent_step_run_id,
                                 deadline_at, started_at, completed_at, updated_at)
      SELECT v.id, v.task_id, v.tenant_id, v.definition_id, v.workflow_name, v.workflow_version, v.status::workflow_run_status, v.input::jsonb, v.output::jsonb, v.error::jsonb,
             v.parent_run_id, v.parent_step_run_id, v.deadline_at, v.started_at, v.completed_at, ${w.now}
        FROM unnest(${nr((x) => x.row.id)}::text[], ${nr((x) => x.row.taskId)}::text[], ${nr((x) => x.row.tenantId)}::text[], ${nr((x) => x.row.definitionId)}::text[],
                    ${nr((x) => x.def.name)}::text[], ${nr((x) => x.def.version)}::int[], ${nr((x) => x.row.status)}::text[], ${nr((x) => j(x.row.input))}::text[],
                    ${nr((x) => j(x.row.output))}::text[], ${nr((x) => j(x.row.error))}::text[], ${nr((x) => x.row.parentRunId)}::text[], ${nr((x) => x.row.parentStepRunId)}::text[],
                    ${nr((x) => x.row.deadlineAt)}::timestamptz[], ${nr((x) => x.row.startedAt)}::timestamptz[], ${nr((x) => x.row.completedAt)}::timestamptz[])
             AS v(id, task_id, tenant_id, definition_id, workflow_name, workflow_version, status, input, output, error, parent_run_id, parent_step_run_id, deadline_at, started_at, completed_at)
      RETURNING 1
    )`);
  }
  if (w.newSteps.length > 0) {
    parts.push(Prisma.sql`new_steps AS (
      INSERT INTO step_runs (id, run_id, step_path, status, attempt, input, output, error, scheduled_at, started_at, completed_at, next_attempt_at, deadline_at,
                             lease_owner, lease_expires_at, wait_for, wait_key, parent_path, updated_at)
      SELECT v.id, v.run_id, v.step_path, v.status::step_run_status, v.attempt, v.input::jsonb, v.output::jsonb, v.error::jsonb, v.scheduled_at, v.started_at, v.completed_at,
             v.next_attempt_at, v.deadline_at, v.lease_owner, v.lease_expires_at, v.wait_for, v.wait_key, v.parent_path, ${w.now}
        FROM unnest(${ns((x) => x.id)}::text[], ${ns((x) => x.runId)}::text[], ${ns((x) => x.stepPath)}::text[], ${ns((x) => x.status)}::text[], ${ns((x) => x.attempt)}::int[],
                    ${ns((x) => j(x.input))}::text[], ${ns((x) => j(x.output))}::text[], ${ns((x) => j(x.error))}::text[], ${ns((x) => x.scheduledAt)}::timestamptz[],
                    ${ns((x) => x.startedAt)}::timestamptz[], ${ns((x) => x.completedAt)}::timestamptz[], ${ns((x) => x.nextAttemptAt)}::timestamptz[], ${ns((x) => x.deadlineAt)}::timestamptz[],
                    ${ns((x) => x.leaseOwner)}::text[], ${ns((x) => x.leaseExpiresAt)}::timestamptz[], ${ns((x) => x.waitFor)}::text[], ${ns((x) => x.waitKey)}::text[],
                    ${ns((x) => x.parentPath)}::text[])
             AS v(id, run_id, step_path, status, attempt, input, output, error, scheduled_at, started_at, completed_at, next_attempt_at, deadline_at, lease_owner, lease_expires_at,
                  wait_for, wait_key, parent_path)
      RETURNING 1
    )`);
  }
  if (w.steps.length > 0) {
    parts.push(Prisma.sql`steps AS (
      UPDATE step_runs AS s SET status = v.status::step_run_status, attempt = v.attempt, input = v.input::jsonb, output = v.output::jsonb, error = v.error::jsonb,
             scheduled_at = v.scheduled_at, started_at = v.started_at, completed_at = v.completed_at, next_attempt_at = v.next_attempt_at,
             deadline_at = v.deadline_at, lease_owner = v.lease_owner, lease_expires_at = v.lease_expires_at, wait_for = v.wait_for, wait_key = v.wait_key, updated_at = ${w.now}
        FROM unnest(${c((x) => x.id)}::text[], ${c((x) => x.status)}::text[], ${c((x) => x.attempt)}::int[], ${c((x) => j(x.input))}::text[], ${c((x) => j(x.output))}::text[],
                    ${c((x) => j(x.error))}::text[], ${c((x) => x.scheduledAt)}::timestamptz[], ${c((x) => x.startedAt)}::timestamptz[], ${c((x) => x.completedAt)}::timestamptz[],
                    ${c((x) => x.nextAttemptAt)}::timestamptz[], ${c((x) => x.deadlineAt)}::timestamptz[], ${c((x) => x.leaseOwner)}::text[], ${c((x) => x.leaseExpiresAt)}::timestamptz[],
                    ${c((x) => x.waitFor)}::text[], ${c((x) => x.waitKey)}::text[])
             AS v(id, status, attempt, input, output, error, scheduled_at, started_at, completed_at, next_attempt_at, deadline_at, lease_owner, lease_expires_at, wait_for, wait_key)
       WHERE s.id = v.id RETURNING 1
    )`);
  }
  if (w.runs.length > 0) {
    parts.push(Prisma.sql`runs AS (
      UPDATE workflow_runs AS r SET status = v.status::workflow_run_status, output = v.output::jsonb, error = v.error::jsonb, completed_at = v.completed_at,
             version = r.version + 1, updated_at = ${w.now}
        FROM unnest(${r((x) => x.id)}::text[], ${r((x) => x.status)}::text[], ${r((x) => j(x.output))}::text[], ${r((x) => j(x.error))}::text[], ${r((x) => x.completedAt)}::timestamptz[])
             AS v(id, status, output, error, completed_at)
       WHERE r.id = v.id RETURNING 1
    )`);
  }
  if (w.dispatches.length > 0) {
    parts.push(Prisma.sql`dispatched AS (
      INSERT INTO skill_invocations (id, tenant_id, task_id, step_run_id, skill, category, requester, status, attempt, input, dispatched_at)
      SELECT v.id, v.tenant_id, v.task_id, v.id, v.skill, v.category, 'workflow-runner', 'pending', v.attempt, v.input::jsonb, ${w.now}
        FROM unnest(${d((x) => x.p.invocationId)}::text[], ${d((x) => x.p.tenantId)}::text[], ${d((x) => x.p.taskId)}::text[], ${d((x) => x.p.skill)}::text[],
                    ${d((x) => x.route.category)}::text[], ${d((x) => x.p.attempt)}::int[], ${d((x) => JSON.stringify(x.p.input))}::text[])
             AS v(id, tenant_id, task_id, skill, category, attempt, input)
      ON CONFLICT (id) DO UPDATE SET status = 'pending', attempt = EXCLUDED.attempt, input = EXCLUDED.input, started_at = NULL, completed_at = NULL,
                                     output = NULL, error = NULL, dispatched_at = EXCLUDED.dispatched_at
      RETURNING 1
    )`);
  }
  if (results.length > 0) {
    parts.push(Prisma.sql`results AS (
      UPDATE skill_invocations AS si SET status = v.status::skill_invocation_status, output = v.output::jsonb, error = v.error::jsonb, completed_at = ${w.now}
        FROM unnest(${results.map((x) => x.invocationId)}::text[], ${results.map((x) => x.attempt)}::int[], ${results.map((x) => x.status)}::text[],
                    ${results.map((x) => j(x.output))}::text[], ${results.map((x) => j(x.error))}::text[]) AS v(id, attempt, status, output, error)
       WHERE si.id = v.id AND si.attempt = v.attempt AND si.status IN ('pending', 'running') RETURNING 1
    )`);
  }
  if (cancelled.size > 0) {
    parts.push(Prisma.sql`cancelled AS (
      UPDATE skill_invocations SET status = 'cancelled', completed_at = ${w.now}
       WHERE id = ANY(${[...cancelled]}::text[]) AND status IN ('pending', 'running') RETURNING 1
    )`);
  }
  if (w.outbox.length > 0) {
    parts.push(Prisma.sql`outbox AS (
      INSERT INTO outbox (event_id, subject, payload, headers)
      SELECT * FROM unnest(${o((m) => m.eventId)}::text[], ${o((m) => m.subject)}::text[], ${o((m) => m.payload)}::text[], ${o((m) => (m.headers ? JSON.stringify(m.headers) : null))}::jsonb[])
      RETURNING 1
    )`);
  }
  if (parts.length === 0) return;
  // Usually the transaction's last statement: deferred, it goes with the COMMIT, one round trip for both.
  await ctx.executeDeferred(Prisma.sql`WITH ${Prisma.join(parts, ', ')} SELECT 1`);
}
