import { hostname } from 'node:os';
import { deterministicId, makeEvent, type Envelope, type ErrorInfo, type LlmUsageV1, type OutputRef, type SkillInvokeV1 } from '@steward/contracts';
import { outputRefFor } from '@steward/state';
import { silentLogger, type Bus, type Logger } from '@steward/bus';
import { isLlmError } from '@steward/llm';
import { z } from 'zod';
import { SkillError, type CodeSkill, type ModelUsage } from '../skills/skill.js';
import type { CancellationSource } from './cancellations.js';

const SOURCE = 'steward/skill-worker';

/** This process, as named in progress events. */
export const defaultWorkerId = (): string => `${hostname()}-${process.pid}`;

export interface ExecuteOptions {
  /** Stable id of this worker, reported in started and heartbeat events. */
  workerId?: string;
  /** Without it the invocation cannot be cancelled. */
  cancellations?: CancellationSource;
  /** Where outputs larger than maxInlineBytes go; without it every output travels inline. */
  outputs?: { maxInlineBytes: number; store(tenantId: string, ref: OutputRef, json: string): Promise<void> };
  /** Told of every model call a skill made (metrics). */
  onUsage?: (model: string, usage: ModelUsage) => void;
  log?: Logger;
}

type Outcome = { ok: true; output: unknown } | { ok: false; error: ErrorInfo };

/** Reports progress; never throws: a lost report must not fail the skill. */
interface Progress {
  everyMs: number;
  started(): Promise<void>;
  heartbeat(): Promise<void>;
}

/**
 * The started report waits this long (or heartbeatMs if shorter): most skills end sooner and report their start in
 * their result, which spares the bus a message and the requester a transaction per step.
 */
export const STARTED_REPORT_DELAY_MS = 200;

const cancelledError = (reason: string): ErrorInfo => ({ code: 'cancelled', message: `cancelled: ${reason}`, retryable: false });

/** Model errors a later attempt may get past (the provider has already retried within this one). */
const RETRYABLE_LLM = new Set(['rate_limited', 'overloaded', 'unavailable', 'timeout', 'invalid_output']);

/** What a skill's exception tells the requester: its own code, a model error's (`llm_<code>`), or `skill_error`. */
export function errorOf(err: unknown): ErrorInfo {
  if (err instanceof SkillError) return { code: err.code, message: err.message, retryable: err.retryable };
  if (isLlmError(err)) return { code: `llm_${err.code}`, message: err.message, retryable: RETRYABLE_LLM.has(err.code) };
  return { code: 'skill_error', message: err instanceof Error ? err.message : String(err), retryable: true };
}

/**
 * Runs one invocation attempt and publishes its result (awaiting JetStream's ack) before the command is acked.
 * The result's event id is derived from invocation + attempt: a re-run after a crash publishes a duplicate that
 * JetStream drops, and the requester's fencing ignores anything older. So is the id of `started`; heartbeats
 * (asked for with heartbeatMs) get fresh ids. A cancelled invocation is not run, or is aborted, and fails with `cancelled`.
 */
export async function executeInvocation(bus: Bus, skills: ReadonlyMap<string, CodeSkill>, event: Envelope<SkillInvokeV1>, opts: ExecuteOptions = {}): Promise<'completed' | 'failed'> {
  const d = event.data;
  const log = opts.log ?? silentLogger;
  const started = performance.now();
  const ref = { invocationId: d.invocationId, taskId: d.taskId, ...(d.stepRunId ? { stepRunId: d.stepRunId } : {}), requester: d.requester, attempt: d.attempt };
  const ctx = { source: SOURCE, tenantId: d.tenantId, correlationId: d.taskId, subject: d.invocationId, causationId: event.id, ...(event.traceparent ? { traceparent: event.traceparent } : {}) };
  let outcome: Outcome;
  const worker = opts.workerId ?? defaultWorkerId();
  const began: { at?: Date } = {};
  let usage: LlmUsageV1 | undefined;
  const recordUsage = (model: string, u: ModelUsage): void => {
    const prev = usage ?? { calls: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0 };
    usage = {
      calls: prev.calls + 1,
      inputTokens: prev.inputTokens + u.inputTokens,
      outputTokens: prev.outputTokens + u.outputTokens,
      cacheReadTokens: prev.cacheReadTokens + u.cacheReadTokens,
      cacheWriteTokens: prev.cacheWriteTokens + u.cacheWriteTokens,
      costUsd: prev.costUsd + u.costUsd,
    };
    opts.onUsage?.(model, u);
  };
  const skill = skills.get(d.skill);
  const cancelled = opts.cancellations?.reasonFor(d.tenantId, d.invocationId, d.attempt);
  if (cancelled !== undefined) {
    outcome = { ok: false, error: cancelledError(cancelled) };
  } else if (!skill) {
    outcome = { ok: false, error: { code: 'unknown_skill', message: `this worker has no skill "${d.skill}"`, retryable: false } };
  } else {
    let progress: Progress | undefined;
    if (d.heartbeatMs !== undefined) {
      const data = { ...ref, worker };
      const report = async (key: 'skill.invocation.started.v1' | 'skill.invocation.heartbeat.v1', id?: string): Promise<void> => {
        try {
          await bus.publish(makeEvent(key, { ...data, ...(began.at ? { startedAt: began.at.toISOString() } : {}) }, { ...ctx, ...(id ? { id } : {}) }));
        } catch (err) {
          log.warn({ err, invocationId: d.invocationId, type: key }, 'progress report failed; the skill goes on');
        }
      };
      progress = {
        everyMs: d.heartbeatMs,
        started: () => report('skill.invocation.started.v1', deterministicId(d.invocationId, String(d.attempt), 'started')),
        heartbeat: () => report('skill.invocation.heartbeat.v1'),
      };
    }
    outcome = await run(skill, d, progress, opts.cancellations, began, recordUsage);
  }
  const base = { ...ref, durationMs: performance.now() - started, ...(began.at ? { worker, startedAt: began.at.toISOString() } : {}), ...(usage ? { llmUsage: usage } : {}) };
  const meta = { ...ctx, id: deterministicId(d.invocationId, String(d.attempt), 'result') };
  if (outcome.ok) {
    // An output too large for the bus is stored first (once per attempt) and published as a reference.
    const json = JSON.stringify(outcome.output ?? null);
    const ref = opts.outputs ? outputRefFor(`${d.invocationId}:${d.attempt}`, json, opts.outputs.maxInlineBytes) : undefined;
    if (ref) await opts.outputs!.store(d.tenantId, ref, json);
    await bus.publish(makeEvent('skill.invocation.completed.v1', { ...base, ...(ref ? { output: null, outputRef: ref } : { output: outcome.output }) }, meta));
    return 'completed';
  }
  await bus.publish(makeEvent('skill.invocation.failed.v1', { ...base, error: outcome.error }, meta));
  return 'failed';
}

type Halt = { kind: 'timeout' } | { kind: 'cancelled'; reason: string };
const HALTED = Symbol('halted');

async function run(
  skill: CodeSkill,
  d: SkillInvokeV1,
  progress: Progress | undefined,
  cancellations: CancellationSource | undefined,
  began: { at?: Date },
  recordUsage: (model: string, u: ModelUsage) => void,
): Promise<Outcome> {
  const input = skill.input.safeParse(d.input);
  if (!input.success) return { ok: false, error: { code: 'invalid_input', message: `input does not match ${skill.name}'s schema`, retryable: false, details: z.treeifyError(input.error) } };
  const timeoutMs = Math.min(d.timeoutMs, skill.timeoutMs);
  const halted = (h: Halt): Outcome =>
    h.kind === 'timeout' ? { ok: false, error: { code: 'timeout', message: `${skill.name} did not finish within ${timeoutMs} ms`, retryable: true } } : { ok: false, error: cancelledError(h.reason) };

  // Timeout and cancel settle `stopped` first and abort the skill after, so the race reports them at once even for
  // a skill that ignores its signal.
  const controller = new AbortController();
  const state: { halt?: Halt } = {};
  let settle!: (v: typeof HALTED) => void;
  const stopped = new Promise<typeof HALTED>((resolve) => (settle = resolve));
  const stop = (h: Halt): void => {
    if (state.halt) return;
    state.halt = h;
    settle(HALTED);
    controller.abort(new Error(h.kind === 'timeout' ? 'timeout' : `cancelled: ${h.reason}`));
  };
  // A cancel heard before now fires at once, and the skill is not started.
  const unlisten = cancellations?.onCancel(d.tenantId, d.invocationId, (reason) => stop({ kind: 'cancelled', reason }), d.attempt);
  if (state.halt) return halted(state.halt);
  const timer = setTimeout(() => stop({ kind: 'timeout' }), timeoutMs);
  began.at = new Date();
  let reporting: Promise<void> | undefined;
  // One report at a time: a slow publish skips beats instead of piling them up.
  const send = (report: () => Promise<void>): void => {
    reporting ??= report().finally(() => (reporting = undefined));
  };
  const startedReport = progress ? setTimeout(() => send(() => progress.started()), Math.min(progress.everyMs, STARTED_REPORT_DELAY_MS)) : undefined;
  const beat = progress ? setInterval(() => send(() => progress.heartbeat()), progress.everyMs) : undefined;
  try {
    const result = await Promise.race([skill.run(input.data, { idempotencyKey: d.idempotencyKey, tenantId: d.tenantId, taskId: d.taskId, attempt: d.attempt, signal: controller.signal, recordUsage }), stopped]);
    if (state.halt) return halted(state.halt);
    const output = skill.output.safeParse(result);
    if (!output.success) return { ok: false, error: { code: 'invalid_output', message: `${skill.name} returned output that does not match its schema`, retryable: false, details: z.treeifyError(output.error) } };
    return { ok: true, output: output.data };
  } catch (err) {
    if (state.halt) return halted(state.halt);
    return { ok: false, error: errorOf(err) };
  } finally {
    clearTimeout(timer);
    clearTimeout(startedReport);
    clearInterval(beat);
    unlisten?.();
    // A report still in flight lands before the result, never after it.
    await reporting;
  }
}
