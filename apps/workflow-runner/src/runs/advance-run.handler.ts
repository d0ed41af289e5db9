import { type Envelope, type SkillInvocationCompletedV1, type SkillInvocationFailedV1 } from '@steward/contracts';
import { acceptSkillResult, acceptSkillResults, dispatchNewSkills, json, type DispatchSkillParams, type UnitOfWorkContext, type WorkflowRun } from '@steward/state';
import { pinnedDefinition } from '../definitions/definition-cache.js';
import { asInput, emitRunEvent, failRun, scheduleStep, SOURCE } from './run-events.js';

export type SkillResultEvent =
  | { key: 'skill.invocation.completed.v1'; envelope: Envelope<SkillInvocationCompletedV1> }
  | { key: 'skill.invocation.failed.v1'; envelope: Envelope<SkillInvocationFailedV1> };

type RunRef = Pick<WorkflowRun, 'id' | 'tenantId' | 'taskId' | 'definitionId'>;

/**
 * Steps' skills finished. Completions are handled set-wise (a handful of statements for the whole batch: accept,
 * mark steps done, schedule next steps, complete runs); failures, rare, go one by one through advanceRun.
 */
export async function advanceRuns(ctx: UnitOfWorkContext, events: SkillResultEvent[], maxAttempts: number): Promise<void> {
  const { tx } = ctx;
  const completed: Envelope<SkillInvocationCompletedV1>[] = [];
  for (const e of events) {
    if (!e.envelope.data.stepRunId) continue;
    if (e.key === 'skill.invocation.failed.v1') await advanceRun(ctx, e.envelope, 'failed', maxAttempts);
    else completed.push(e.envelope);
  }
  if (completed.length === 0) return;
  const accepted = await acceptSkillResults(tx, completed.map((e) => ({ kind: 'completed' as const, ...e.data })));
  const done = completed.filter((e) => accepted.delete(e.data.invocationId));
  if (done.length === 0) return;
  const now = new Date();
  const steps = await tx.$queryRaw<{ id: string; run_id: string; step_path: string }[]>`
    UPDATE step_runs AS s SET status = 'completed', output = v.output::jsonb, completed_at = ${now}, updated_at = ${now}
      FROM unnest(${done.map((e) => e.data.stepRunId!)}::text[], ${done.map((e) => e.data.attempt)}::int[], ${done.map((e) => JSON.stringify(e.data.output ?? null))}::text[]) AS v(id, attempt, output)
     WHERE s.id = v.id AND s.attempt = v.attempt AND s.status IN ('scheduled', 'running')
    RETURNING s.id, s.run_id, s.step_path`;
  const stepById = new Map(steps.map((r) => [r.id, r]));
  const runs = new Map<string, RunRef>(
    (await tx.workflowRun.findMany({ where: { id: { in: [...new Set(steps.map((r) => r.run_id))] }, status: 'running' }, select: { id: true, tenantId: true, taskId: true, definitionId: true } })).map((r) => [r.id, r]),
  );

  const next: { run: RunRef; stepPath: string; skill: string; timeoutMs?: number; input: Record<string, unknown>; causationId: string }[] = [];
  const finishing: { run: RunRef; output: unknown; causationId: string }[] = [];
  for (const e of done) {
    const step = stepById.get(e.data.stepRunId!);
    const run = step && runs.get(step.run_id);
    if (!step || !run) continue;
    emitRunEvent(ctx, 'step.run.completed.v1', { runId: run.id, stepRunId: step.id, stepPath: step.step_path, attempt: e.data.attempt, output: e.data.output }, run, e.id);
    const def = await pinnedDefinition(tx, run.definitionId);
    const nextDef = def.steps[def.steps.findIndex((s) => s.id === step.step_path) + 1];
    if (nextDef) next.push({ run, stepPath: nextDef.id, skill: nextDef.skill, ...(nextDef.timeout_ms ? { timeoutMs: nextDef.timeout_ms } : {}), input: asInput(e.data.output), causationId: e.id });
    else finishing.push({ run, output: e.data.output, causationId: e.id });
  }

  if (next.length > 0) {
    const rows = await tx.$queryRaw<{ id: string; run_id: string; step_path: string }[]>`
      UPDATE step_runs AS s SET status = 'scheduled', attempt = 1, input = v.input::jsonb, scheduled_at = ${now}, updated_at = ${now}
        FROM unnest(${next.map((n) => n.run.id)}::text[], ${next.map((n) => n.stepPath)}::text[], ${next.map((n) => JSON.stringify(n.input))}::text[]) AS v(run_id, step_path, input)
       WHERE s.run_id = v.run_id AND s.step_path = v.step_path AND s.status = 'pending'
      RETURNING s.id, s.run_id, s.step_path`;
    const idOf = new Map(rows.map((r) => [`${r.run_id}\u0000${r.step_path}`, r.id]));
    const dispatches: (DispatchSkillParams & { stepPath: string; run: RunRef })[] = [];
    for (const n of next) {
      const stepRunId = idOf.get(`${n.run.id}\u0000${n.stepPath}`);
      if (!stepRunId) continue;
      dispatches.push({ invocationId: stepRunId, tenantId: n.run.tenantId, taskId: n.run.taskId, stepRunId, requester: 'workflow-runner', skill: n.skill, input: n.input, attempt: 1, ...(n.timeoutMs ? { timeoutMs: n.timeoutMs } : {}), source: SOURCE, causationId: n.causationId, stepPath: n.stepPath, run: n.run });
    }
    const failures = new Map((await dispatchNewSkills(ctx, dispatches)).map((f) => [f.params.invocationId, f.error]));
    for (const d of dispatches) {
      const error = failures.get(d.invocationId);
      if (error) await failRun(ctx, d.run, error, d.causationId!);
      else emitRunEvent(ctx, 'step.run.scheduled.v1', { runId: d.run.id, stepRunId: d.invocationId, stepPath: d.stepPath, attempt: 1 }, d.run, d.causationId!);
    }
  }

  if (finishing.length > 0) {
    const rows = await tx.$queryRaw<{ id: string }[]>`
      UPDATE workflow_runs AS r SET status = 'completed', output = v.output::jsonb, completed_at = ${now}, updated_at = ${now}
        FROM unnest(${finishing.map((f) => f.run.id)}::text[], ${finishing.map((f) => JSON.stringify(f.output ?? null))}::text[]) AS v(id, output)
       WHERE r.id = v.id AND r.status = 'running'
      RETURNING r.id`;
    const finished = new Set(rows.map((r) => r.id));
    for (const f of finishing) {
      if (finished.delete(f.run.id)) emitRunEvent(ctx, 'workflow.run.completed.v1', { runId: f.run.id, taskId: f.run.taskId, output: f.output }, f.run, f.causationId);
    }
  }
}

/** A step's skill finished: record it (current attempt only), then schedule the next step, retry, or end the run. */
export async function advanceRun(
  ctx: UnitOfWorkContext,
  event: Envelope<SkillInvocationCompletedV1> | Envelope<SkillInvocationFailedV1>,
  kind: 'completed' | 'failed',
  maxAttempts: number,
): Promise<void> {
  const { tx } = ctx;
  const d = event.data;
  if (!d.stepRunId) return;
  const accepted = await acceptSkillResult(tx, kind === 'completed' ? { kind, ...(d as SkillInvocationCompletedV1) } : { kind, ...(d as SkillInvocationFailedV1) });
  if (!accepted) return;
  const step = await tx.stepRun.findUniqueOrThrow({ where: { id: d.stepRunId }, include: { run: true } });
  const run = step.run;
  if (run.status !== 'running' || step.attempt !== d.attempt) return;
  const now = new Date();

  if (kind === 'failed') {
    const { error } = d as SkillInvocationFailedV1;
    if (error.retryable && d.attempt < maxAttempts) {
      const def = await stepDefinition(tx, run.definitionId, step.stepPath);
      const err = await scheduleStep(ctx, run, { stepRunId: step.id, stepPath: step.stepPath, skill: def.skill, ...(def.timeout_ms ? { timeoutMs: def.timeout_ms } : {}) }, asInput(step.input), d.attempt + 1, event.id);
      if (err) await failRun(ctx, run, err, event.id);
      return;
    }
    await tx.stepRun.update({ where: { id: step.id }, data: { status: 'failed', error: json(error), completedAt: now } });
    emitRunEvent(ctx, 'step.run.failed.v1', { runId: run.id, stepRunId: step.id, stepPath: step.stepPath, attempt: d.attempt, error }, run, event.id);
    return failRun(ctx, run, { code: 'step_failed', message: `step ${step.stepPath} failed: ${error.message}`, retryable: false, details: error }, event.id);
  }

  const output = (d as SkillInvocationCompletedV1).output;
  await tx.stepRun.update({ where: { id: step.id }, data: { status: 'completed', output: json(output), completedAt: now } });
  emitRunEvent(ctx, 'step.run.completed.v1', { runId: run.id, stepRunId: step.id, stepPath: step.stepPath, attempt: d.attempt, output }, run, event.id);

  const def = await pinnedDefinition(tx, run.definitionId);
  const index = def.steps.findIndex((s) => s.id === step.stepPath);
  const nextDef = def.steps[index + 1];
  if (!nextDef) {
    const { count } = await tx.workflowRun.updateMany({ where: { id: run.id, status: 'running' }, data: { status: 'completed', output: json(output), completedAt: now } });
    if (count === 1) emitRunEvent(ctx, 'workflow.run.completed.v1', { runId: run.id, taskId: run.taskId, output }, run, event.id);
    return;
  }
  const next = await tx.stepRun.findUniqueOrThrow({ where: { runId_stepPath: { runId: run.id, stepPath: nextDef.id } } });
  const err = await scheduleStep(ctx, run, { stepRunId: next.id, stepPath: next.stepPath, skill: nextDef.skill, ...(nextDef.timeout_ms ? { timeoutMs: nextDef.timeout_ms } : {}) }, asInput(output), 1, event.id);
  if (err) await failRun(ctx, run, err, event.id);
}

async function stepDefinition(tx: UnitOfWorkContext['tx'], definitionId: string, stepPath: string) {
  const step = (await pinnedDefinition(tx, definitionId)).steps.find((s) => s.id === stepPath);
  if (!step) throw new Error(`step ${stepPath} is not in definition ${definitionId}`);
  return step;
}
