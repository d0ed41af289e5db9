// steward_tasks_finished_total against real PostgreSQL: each task counted once by kind and final status, after its
// transaction commits; redelivered results, repeated cancels and rolled-back work count nothing.
import { makeEvent, type Envelope, type TaskCancelV1, type TaskSubmittedV1 } from '@steward/contracts';
import { Registry } from '@steward/service-kit';
import { UnitOfWork, createTestSchema, type SqlClient, type TestSchema, type UnitOfWorkContext } from '@steward/state';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cancelTasks } from './cancel-task.handler.js';
import { finishSkillTasks, type SkillResultEvent } from './finish-skill-task.handler.js';
import { finishWorkflowTask } from './finish-workflow-task.handler.js';
import { startTasks } from './start-task.handler.js';
import { failTask } from './task-lifecycle.js';
import { TaskMetrics } from './task-outcomes.js';

let db: TestSchema;
let uow: UnitOfWork;
let registry: Registry;
let metrics: TaskMetrics;
const meta = (taskId: string) => ({ source: 'test', tenantId: 't1', correlationId: taskId });

beforeAll(async () => {
  db = await createTestSchema('orchestrator_outcomes');
  uow = new UnitOfWork(db.prisma, undefined, db); // the raw transactions the service runs on
  await db.prisma.skill.create({ data: { name: 'echo', category: 'core', description: 'echo', kind: 'code', sideEffects: 'none', timeoutMs: 1000 } });
});
afterAll(async () => {
  await db.drop();
});
beforeEach(() => {
  registry = new Registry();
  metrics = new TaskMetrics(registry);
});

/** As the orchestrator's consumers run a handler: tracked in one transaction, counted after the commit. */
async function handle(fn: (ctx: UnitOfWorkContext<SqlClient>) => Promise<unknown>): Promise<void> {
  const finished = await uow.sqlTransaction((ctx) => metrics.track(fn)(ctx));
  metrics.count(finished);
}

async function counts(): Promise<Record<string, number>> {
  const { values } = await registry.getSingleMetric('steward_tasks_finished_total')!.get();
  return Object.fromEntries(values.filter((v) => v.value > 0).map((v) => [`${v.labels.kind} ${v.labels.status}`, v.value]));
}

async function submitted(target: TaskSubmittedV1['target']): Promise<Envelope<TaskSubmittedV1>> {
  const taskId = randomUUID();
  await db.prisma.task.create({
    data: { id: taskId, tenantId: 't1', kind: target.kind, ...(target.kind === 'skill' ? { skill: target.skill } : { workflowName: target.workflow, workflowVersion: target.version }), input: {}, status: 'pending' },
  });
  return makeEvent('task.submitted.v1', { taskId, tenantId: 't1', target, input: {}, submittedAt: new Date().toISOString() }, meta(taskId)).envelope;
}

function result(inv: { id: string; taskId: string }, outcome: 'completed' | 'failed'): SkillResultEvent {
  const base = { invocationId: inv.id, taskId: inv.taskId, requester: 'orchestrator' as const, attempt: 1, durationMs: 1 };
  return outcome === 'completed'
    ? { key: 'skill.invocation.completed.v1', envelope: makeEvent('skill.invocation.completed.v1', { ...base, output: { ok: true } }, meta(inv.taskId)).envelope }
    : { key: 'skill.invocation.failed.v1', envelope: makeEvent('skill.invocation.failed.v1', { ...base, error: { code: 'bad_input', message: 'no', retryable: false } }, meta(inv.taskId)).envelope };
}

const cancel = (taskId: string): Envelope<TaskCancelV1> => makeEvent('task.cancel.v1', { requestId: randomUUID(), tenantId: 't1', taskId, reason: 'not needed' }, meta(taskId)).envelope;

describe('steward_tasks_finished_total (real PostgreSQL)', () => {
  it('exports every kind and status from the start, at zero', async () => {
    const { values } = await registry.getSingleMetric('steward_tasks_finished_total')!.get();
    expect(values.map((v) => `${v.labels.kind} ${v.labels.status} ${v.value}`).sort()).toEqual(
      ['skill cancelled 0', 'skill completed 0', 'skill failed 0', 'workflow cancelled 0', 'workflow completed 0', 'workflow failed 0'],
    );
  });

  it('counts a skill task that completes and one that fails once each, however often their results come', async () => {
    const a = await submitted({ kind: 'skill', skill: 'echo' });
    const b = await submitted({ kind: 'skill', skill: 'echo' });
    await handle((ctx) => startTasks(ctx, [a, b]));
    const invA = await db.prisma.skillInvocation.findFirstOrThrow({ where: { taskId: a.data.taskId } });
    const invB = await db.prisma.skillInvocation.findFirstOrThrow({ where: { taskId: b.data.taskId } });
    expect(await counts()).toEqual({});

    const done = result(invA, 'completed');
    const failed = result(invB, 'failed');
    await handle((ctx) => finishSkillTasks(ctx, [done, failed, done], 3)); // a duplicate in the batch
    await handle((ctx) => finishSkillTasks(ctx, [done, failed], 3)); // redelivered later
    expect(await counts()).toEqual({ 'skill completed': 1, 'skill failed': 1 });
    expect((await db.prisma.task.findUniqueOrThrow({ where: { id: a.data.taskId } })).status).toBe('completed');
  });

  it('counts a task that fails at its start (unknown skill)', async () => {
    const e = await submitted({ kind: 'skill', skill: 'no.such' });
    await handle((ctx) => startTasks(ctx, [e]));
    await handle((ctx) => startTasks(ctx, [e]));
    expect(await counts()).toEqual({ 'skill failed': 1 });
  });

  it('counts workflow tasks by how their root run ended, and a cancel once', async () => {
    const done = await submitted({ kind: 'workflow', workflow: 'flow', version: 1 });
    const gone = await submitted({ kind: 'workflow', workflow: 'flow', version: 1 });
    await handle((ctx) => startTasks(ctx, [done, gone]));
    const completed = makeEvent('workflow.run.completed.v1', { runId: randomUUID(), taskId: done.data.taskId, output: { x: 1 } }, meta(done.data.taskId)).envelope;
    await handle((ctx) => finishWorkflowTask(ctx, { key: 'workflow.run.completed.v1', envelope: completed }));
    await handle((ctx) => finishWorkflowTask(ctx, { key: 'workflow.run.completed.v1', envelope: completed }));
    await handle((ctx) => cancelTasks(ctx, [cancel(gone.data.taskId), cancel(gone.data.taskId)])); // no run yet: cancelled at once
    await handle((ctx) => cancelTasks(ctx, [cancel(gone.data.taskId)]));
    await handle((ctx) => cancelTasks(ctx, [cancel(done.data.taskId)])); // already ended
    expect(await counts()).toEqual({ 'workflow completed': 1, 'workflow cancelled': 1 });
  });

  it('counts nothing for a transaction that rolls back, and the task still counts when it really ends', async () => {
    const e = await submitted({ kind: 'skill', skill: 'echo' });
    await handle((ctx) => startTasks(ctx, [e]));
    const boom = handle(async (ctx) => {
      await failTask(ctx, 't1', e.data.taskId, { code: 'x', message: 'x', retryable: false }, randomUUID());
      throw new Error('rolled back');
    });
    await expect(boom).rejects.toThrow('rolled back');
    expect((await db.prisma.task.findUniqueOrThrow({ where: { id: e.data.taskId } })).status).toBe('running');
    expect(await counts()).toEqual({});
    await handle((ctx) => failTask(ctx, 't1', e.data.taskId, { code: 'x', message: 'x', retryable: false }, randomUUID()));
    expect(await counts()).toEqual({ 'skill failed': 1 });
  });
});
