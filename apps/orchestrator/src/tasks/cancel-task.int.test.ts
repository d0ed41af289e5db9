// task.cancel in the orchestrator against real PostgreSQL: skill tasks (pending, running, a late result, repeats,
// another tenant's, ended ones) and workflow tasks (with a running root run, with none yet, with one just ended).
import { makeEvent, type Envelope, type TaskCancelV1, type TaskSubmittedV1 } from '@steward/contracts';
import { UnitOfWork, createTestSchema, type TestSchema } from '@steward/state';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelRunOfCancelledTask, cancelTasks } from './cancel-task.handler.js';
import { finishSkillTasks } from './finish-skill-task.handler.js';
import { finishWorkflowTask } from './finish-workflow-task.handler.js';
import { startTasks } from './start-task.handler.js';

let db: TestSchema;
let uow: UnitOfWork;
let definitionId: string;
const meta = (taskId: string) => ({ source: 'test', tenantId: 't1', correlationId: taskId });

beforeAll(async () => {
  db = await createTestSchema('orchestrator_cancel');
  uow = new UnitOfWork(db.prisma, undefined, db); // the raw transactions the service runs on
  await db.prisma.skill.create({ data: { name: 'util.sleep', category: 'core', description: 'sleep', kind: 'code', sideEffects: 'none', timeoutMs: 60_000 } });
  definitionId = randomUUID();
  await db.prisma.workflowDefinition.create({ data: { id: definitionId, tenantId: 't1', name: 'flow', version: 1, definition: {}, hash: 'h' } });
});
afterAll(async () => {
  await db.drop();
});

async function submitted(target: TaskSubmittedV1['target']): Promise<Envelope<TaskSubmittedV1>> {
  const taskId = randomUUID();
  await db.prisma.task.create({
    data: { id: taskId, tenantId: 't1', kind: target.kind, ...(target.kind === 'skill' ? { skill: target.skill } : { workflowName: target.workflow, workflowVersion: target.version }), input: {}, status: 'pending' },
  });
  return makeEvent('task.submitted.v1', { taskId, tenantId: 't1', target, input: {}, submittedAt: new Date().toISOString() }, meta(taskId)).envelope;
}
const skillTask = () => submitted({ kind: 'skill', skill: 'util.sleep' });
const workflowTask = () => submitted({ kind: 'workflow', workflow: 'flow', version: 1 });

const cancel = (taskId: string, tenantId = 't1', reason = 'no longer needed'): Envelope<TaskCancelV1> =>
  makeEvent('task.cancel.v1', { requestId: randomUUID(), tenantId, taskId, reason }, { ...meta(taskId), tenantId }).envelope;

const outbox = async (taskId: string) =>
  (await db.prisma.outbox.findMany({ orderBy: { id: 'asc' } })).map((r) => JSON.parse(r.payload) as Envelope<Record<string, unknown>>).filter((e) => e.correlationid === taskId);
const types = async (taskId: string) => (await outbox(taskId)).map((e) => e.type.replace('steward.', ''));
const statusOf = async (taskId: string) => (await db.prisma.task.findUniqueOrThrow({ where: { id: taskId } })).status;

async function rootRun(taskId: string, status: 'running' | 'completed' = 'running'): Promise<string> {
  const id = randomUUID();
  await db.prisma.workflowRun.create({ data: { id, taskId, tenantId: 't1', definitionId, workflowName: 'flow', workflowVersion: 1, status, input: {} } });
  return id;
}

describe('task.cancel of a single-skill task', () => {
  it('cancels a running task, marks its invocation cancelled and tells the workers; a late result changes nothing', async () => {
    const e = await skillTask();
    const taskId = e.data.taskId;
    await uow.sqlTransaction((c) => startTasks(c, [e]));
    const inv = await db.prisma.skillInvocation.findFirstOrThrow({ where: { taskId } });

    await uow.sqlTransaction((c) => cancelTasks(c, [cancel(taskId)]));
    const task = await db.prisma.task.findUniqueOrThrow({ where: { id: taskId } });
    expect(task).toMatchObject({ status: 'cancelled', error: { code: 'cancelled', message: 'no longer needed' } });
    expect(task.completedAt).not.toBeNull();
    expect((await db.prisma.skillInvocation.findUniqueOrThrow({ where: { id: inv.id } })).status).toBe('cancelled');
    expect(await types(taskId)).toEqual(['task.started.v1', 'skill.invoke.v1', 'task.cancelled.v1', 'skill.invocation.cancel.v1']);
    const [stop] = (await outbox(taskId)).filter((x) => x.type === 'steward.skill.invocation.cancel.v1');
    expect(stop!.data).toEqual({ invocationId: inv.id, tenantId: 't1', reason: 'no longer needed' });

    // The worker, told to stop, reports a failure; or the skill finished just before: neither is accepted.
    const result = makeEvent('skill.invocation.completed.v1', { invocationId: inv.id, taskId, requester: 'orchestrator', attempt: 1, output: { late: true }, durationMs: 5 }, meta(taskId)).envelope;
    await uow.sqlTransaction((c) => finishSkillTasks(c, [{ key: 'skill.invocation.completed.v1', envelope: result }], 3));
    expect(await statusOf(taskId)).toBe('cancelled');

    // Repeated: nothing more.
    await uow.sqlTransaction((c) => cancelTasks(c, [cancel(taskId), cancel(taskId)]));
    expect((await types(taskId)).filter((t) => t === 'task.cancelled.v1')).toHaveLength(1);
  });

  it('cancels a pending task, which then never starts', async () => {
    const e = await skillTask();
    await uow.sqlTransaction((c) => cancelTasks(c, [cancel(e.data.taskId)]));
    expect(await statusOf(e.data.taskId)).toBe('cancelled');
    await uow.sqlTransaction((c) => startTasks(c, [e]));
    expect(await statusOf(e.data.taskId)).toBe('cancelled');
    expect(await db.prisma.skillInvocation.count({ where: { taskId: e.data.taskId } })).toBe(0);
    expect(await types(e.data.taskId)).toEqual(['task.cancelled.v1']);
  });

  it('ignores another tenant\'s command, an unknown task and a task that already ended', async () => {
    const e = await skillTask();
    await uow.sqlTransaction((c) => startTasks(c, [e]));
    await uow.sqlTransaction((c) => cancelTasks(c, [cancel(e.data.taskId, 't2'), cancel(randomUUID())]));
    expect(await statusOf(e.data.taskId)).toBe('running');

    const inv = await db.prisma.skillInvocation.findFirstOrThrow({ where: { taskId: e.data.taskId } });
    const done = makeEvent('skill.invocation.completed.v1', { invocationId: inv.id, taskId: e.data.taskId, requester: 'orchestrator', attempt: 1, output: 1, durationMs: 5 }, meta(e.data.taskId)).envelope;
    await uow.sqlTransaction((c) => finishSkillTasks(c, [{ key: 'skill.invocation.completed.v1', envelope: done }], 3));
    await uow.sqlTransaction((c) => cancelTasks(c, [cancel(e.data.taskId)]));
    expect(await statusOf(e.data.taskId)).toBe('completed');
    expect(await types(e.data.taskId)).not.toContain('task.cancelled.v1');
  });

  it('either cancels or completes a task whose result races the cancellation, never both', async () => {
    for (let i = 0; i < 10; i++) {
      const e = await skillTask();
      await uow.sqlTransaction((c) => startTasks(c, [e]));
      const inv = await db.prisma.skillInvocation.findFirstOrThrow({ where: { taskId: e.data.taskId } });
      const done = makeEvent('skill.invocation.completed.v1', { invocationId: inv.id, taskId: e.data.taskId, requester: 'orchestrator', attempt: 1, output: 1, durationMs: 5 }, meta(e.data.taskId)).envelope;
      await Promise.all([uow.sqlTransaction((c) => cancelTasks(c, [cancel(e.data.taskId)])), uow.sqlTransaction((c) => finishSkillTasks(c, [{ key: 'skill.invocation.completed.v1', envelope: done }], 3))]);
      const status = await statusOf(e.data.taskId);
      const ended = (await types(e.data.taskId)).filter((t) => t === 'task.cancelled.v1' || t === 'task.completed.v1');
      expect(ended).toEqual([`task.${status}.v1`]);
      expect((await db.prisma.skillInvocation.findUniqueOrThrow({ where: { id: inv.id } })).status).toBe(status);
    }
  });
});

describe('task.cancel of a workflow task', () => {
  it('cancels the running root run through workflow.control; the task follows the run\'s cancellation', async () => {
    const e = await workflowTask();
    const taskId = e.data.taskId;
    await uow.sqlTransaction((c) => startTasks(c, [e]));
    const runId = await rootRun(taskId);

    await uow.sqlTransaction((c) => cancelTasks(c, [cancel(taskId)]));
    expect(await statusOf(taskId)).toBe('running');
    const controls = (await outbox(taskId)).filter((x) => x.type === 'steward.workflow.control.v1');
    expect(controls).toHaveLength(1);
    expect(controls[0]!.data).toMatchObject({ tenantId: 't1', runId, action: { kind: 'cancel', reason: 'no longer needed' } });
    expect(controls[0]!.id).toBe((controls[0]!.data as { requestId: string }).requestId);

    // Repeated before the run is cancelled: another command for the same run (the runner ignores it once the run ended).
    await uow.sqlTransaction((c) => cancelTasks(c, [cancel(taskId)]));
    const again = (await outbox(taskId)).filter((x) => x.type === 'steward.workflow.control.v1');
    expect(again.map((x) => (x.data as { runId: string }).runId)).toEqual([runId, runId]);

    const cancelled = makeEvent('workflow.run.cancelled.v1', { runId, taskId, reason: 'no longer needed' }, meta(taskId)).envelope;
    await uow.sqlTransaction((c) => finishWorkflowTask(c, { key: 'workflow.run.cancelled.v1', envelope: cancelled }));
    expect(await statusOf(taskId)).toBe('cancelled');
  });

  it('cancels a task whose run does not exist yet at once, and its run as soon as it starts', async () => {
    const e = await workflowTask();
    const taskId = e.data.taskId;
    await uow.sqlTransaction((c) => startTasks(c, [e])); // workflow.start is on its way
    await uow.sqlTransaction((c) => cancelTasks(c, [cancel(taskId, 't1', 'too late')]));
    expect(await statusOf(taskId)).toBe('cancelled');
    expect(await types(taskId)).toEqual(['task.started.v1', 'workflow.start.v1', 'task.cancelled.v1']);

    const runId = await rootRun(taskId);
    const started = makeEvent('workflow.run.started.v1', { runId, taskId, workflow: 'flow', version: 1 }, meta(taskId)).envelope;
    await uow.sqlTransaction((c) => cancelRunOfCancelledTask(c, started));
    const [control] = (await outbox(taskId)).filter((x) => x.type === 'steward.workflow.control.v1');
    expect(control!.data).toMatchObject({ runId, action: { kind: 'cancel', reason: 'too late' } });

    // The run of a task that is not cancelled, and a child run, are left alone.
    const other = await workflowTask();
    await uow.sqlTransaction((c) => startTasks(c, [other]));
    const otherRun = await rootRun(other.data.taskId);
    await uow.sqlTransaction((c) => cancelRunOfCancelledTask(c, makeEvent('workflow.run.started.v1', { runId: otherRun, taskId: other.data.taskId, workflow: 'flow', version: 1 }, meta(other.data.taskId)).envelope));
    await uow.sqlTransaction((c) => cancelRunOfCancelledTask(c, makeEvent('workflow.run.started.v1', { runId: randomUUID(), taskId, parentRunId: runId, workflow: 'flow', version: 1 }, meta(taskId)).envelope));
    expect((await outbox(other.data.taskId)).filter((x) => x.type === 'steward.workflow.control.v1')).toHaveLength(0);
    expect((await outbox(taskId)).filter((x) => x.type === 'steward.workflow.control.v1')).toHaveLength(1);
  });

  it('cancels a pending workflow task, which then never starts', async () => {
    const e = await workflowTask();
    await uow.sqlTransaction((c) => cancelTasks(c, [cancel(e.data.taskId)]));
    await uow.sqlTransaction((c) => startTasks(c, [e]));
    expect(await statusOf(e.data.taskId)).toBe('cancelled');
    expect(await types(e.data.taskId)).toEqual(['task.cancelled.v1']);
  });

  it('leaves a task whose root run has just ended to that run\'s result', async () => {
    const e = await workflowTask();
    await uow.sqlTransaction((c) => startTasks(c, [e]));
    await rootRun(e.data.taskId, 'completed');
    await uow.sqlTransaction((c) => cancelTasks(c, [cancel(e.data.taskId)]));
    expect(await statusOf(e.data.taskId)).toBe('running');
    expect(await types(e.data.taskId)).toEqual(['task.started.v1', 'workflow.start.v1']);
  });
});
