import { deterministicId, makeEvent, type Envelope, type ErrorInfo, type SkillInvokeV1 } from '@steward/contracts';
import type { Bus } from '@steward/bus';
import { z } from 'zod';
import { SkillError, type CodeSkill } from '../skills/skill.js';

const SOURCE = 'steward/skill-worker';

/**
 * Runs one invocation attempt and publishes its result (awaiting JetStream's ack) before the command is acked.
 * The result's event id is derived from invocation + attempt: a re-run after a crash publishes a duplicate that
 * JetStream drops, and the requester's fencing ignores anything older.
 */
export async function executeInvocation(bus: Bus, skills: ReadonlyMap<string, CodeSkill>, event: Envelope<SkillInvokeV1>): Promise<'completed' | 'failed'> {
  const d = event.data;
  const started = performance.now();
  let outcome: { ok: true; output: unknown } | { ok: false; error: ErrorInfo };
  const skill = skills.get(d.skill);
  if (!skill) {
    outcome = { ok: false, error: { code: 'unknown_skill', message: `this worker has no skill "${d.skill}"`, retryable: false } };
  } else {
    outcome = await run(skill, d);
  }
  const base = { invocationId: d.invocationId, taskId: d.taskId, ...(d.stepRunId ? { stepRunId: d.stepRunId } : {}), requester: d.requester, attempt: d.attempt, durationMs: performance.now() - started };
  const meta = { source: SOURCE, tenantId: d.tenantId, correlationId: d.taskId, subject: d.invocationId, causationId: event.id, id: deterministicId(d.invocationId, String(d.attempt), 'result'), ...(event.traceparent ? { traceparent: event.traceparent } : {}) };
  if (outcome.ok) {
    await bus.publish(makeEvent('skill.invocation.completed.v1', { ...base, output: outcome.output }, meta));
    return 'completed';
  }
  await bus.publish(makeEvent('skill.invocation.failed.v1', { ...base, error: outcome.error }, meta));
  return 'failed';
}

async function run(skill: CodeSkill, d: SkillInvokeV1): Promise<{ ok: true; output: unknown } | { ok: false; error: ErrorInfo }> {
  const input = skill.input.safeParse(d.input);
  if (!input.success) return { ok: false, error: { code: 'invalid_input', message: `input does not match ${skill.name}'s schema`, retryable: false, details: z.treeifyError(input.error) } };
  const controller = new AbortController();
  const timeoutMs = Math.min(d.timeoutMs, skill.timeoutMs);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => {
      controller.abort(new Error('timeout'));
      resolve('timeout');
    }, timeoutMs);
  });
  try {
    const result = await Promise.race([skill.run(input.data, { idempotencyKey: d.idempotencyKey, attempt: d.attempt, signal: controller.signal }), timedOut]);
    if (result === 'timeout') return { ok: false, error: { code: 'timeout', message: `${skill.name} did not finish within ${timeoutMs} ms`, retryable: true } };
    const output = skill.output.safeParse(result);
    if (!output.success) return { ok: false, error: { code: 'invalid_output', message: `${skill.name} returned output that does not match its schema`, retryable: false, details: z.treeifyError(output.error) } };
    return { ok: true, output: output.data };
  } catch (err) {
    if (err instanceof SkillError) return { ok: false, error: { code: err.code, message: err.message, retryable: err.retryable } };
    return { ok: false, error: { code: 'skill_error', message: err instanceof Error ? err.message : String(err), retryable: true } };
  } finally {
    clearTimeout(timer);
  }
}
