import { WorkflowDefinition, type Envelope, type SkillInvocationCompletedV1, type SkillInvocationFailedV1 } from '@steward/contracts';
import { acceptSkillResult, json, type UnitOfWorkContext } from '@steward/state';
import { asInput, emitRunEvent, failRun, scheduleStep } from './run-events.js';

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

  const def = await definition(tx, run.definitionId);
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

/** Parsed definitions by id: a definition is immutable once a run uses it, so it never needs re-reading. */
const definitions = new Map<string, WorkflowDefinition>();

async function definition(tx: UnitOfWorkContext['tx'], definitionId: string): Promise<WorkflowDefinition> {
  const hit = definitions.get(definitionId);
  if (hit) return hit;
  const row = await tx.workflowDefinition.findUniqueOrThrow({ where: { id: definitionId } });
  const def = WorkflowDefinition.parse(row.definition);
  if (definitions.size > 10_000) definitions.clear();
  definitions.set(definitionId, def);
  return def;
}

async function stepDefinition(tx: UnitOfWorkContext['tx'], definitionId: string, stepPath: string) {
  const step = (await definition(tx, definitionId)).steps.find((s) => s.id === stepPath);
  if (!step) throw new Error(`step ${stepPath} is not in definition ${definitionId}`);
  return step;
}
