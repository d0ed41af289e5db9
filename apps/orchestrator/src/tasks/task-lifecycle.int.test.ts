// The orchestrator's handlers against real PostgreSQL: fencing, duplicates in one batch, retries.
import { makeEvent, type Envelope, type TaskSubmittedV1 } from '@steward/contracts';
import { UnitOfWork, createTestSchema, type TestSchema } from '@steward/state';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finishSkillTasks, type SkillResultEvent } from './finish-skill-task.handler.js';
import { startTasks } from './start-task.handler.js';

let db: TestSchema;
let uow: UnitOfWork;
const ctx = { source: 'test', tenantId: 't1', correlationId: 'x' };

beforeAll(async () => {
  db = await createTestSchema('orchestrator');
  uow = new UnitOfWork(db.prisma, undefined, db); // the raw transactions the service runs on
  await db.prisma.skill.create({ data: { name: 'echo', category: 'core', description: 'echo', kind: 'code', sideEffects: 'none', timeoutMs: 1000 } });
});
afterAll(async () => {
  await db.drop();
});

async function submitted(skill = 'echo'): Promise<Envelope<TaskSubmittedV1>> {
  const taskId = randomUUID();
  await db.prisma.task.create({ data: { id: taskId, tenantId: 't1', kind: 'skill', skill, input: { a: 1 }, status: 'pending' } });
  return makeEvent('task.submitted.v1', { taskId, tenantId: 't1', target: { kind: 'skill', skill }, input: { a: 1 }, submittedAt: new Date().toISOString() }, { ...ctx, correlationId: taskId }).envelope;
}

const outboxTypes = async (taskId: string) =>
  (await db.prisma.outbox.findMany({ orderBy: { id: 'asc' } })).map((r) => JSON.parse(r.payload) as Envelope).filter((e) => e.correlationid === taskId).map((e) => e.type.replace('steward.', ''));

function result(inv: { id: string; taskId: string }, attempt: number, outcome: 'completed' | { code: string; retryable: boolean }): SkillResultEvent {
  const base = { invocationId: inv.id, taskId: inv.taskId, requester: 'orchestrator' as const, attempt, durationMs: 1 };
  const meta = { ...ctx, correlationId: inv.taskId };
  return outcome === 'completed'
    ? { key: 'skill.invocation.completed.v1', envelope: makeEvent('skill.invocation.completed.v1', { ...base, output: { done: attempt } }, meta).envelope }
    : { key: 'skill.invocation.failed.v1', envelope: makeEvent('skill.invocation.failed.v1', { ...base, error: { code: outcome.code, message: 'boom', retryable: outcome.retryable } }, meta).envelope };
}

describe('orchestrator task lifecycle (real PostgreSQL)', () => {
  it('starts a batch once each, dispatches to the skill category, and fails a task whose skill is unknown', async () => {
    const a = await submitted();
    const b = await submitted('no.such');
    await uow.sqlTransaction((c) => startTasks(c, [a, b, a])); // a redelivered inside the same batch
    await uow.sqlTransaction((c) => startTasks(c, [a])); // and again later
    expect((await db.prisma.task.findUniqueOrThrow({ where: { id: a.data.taskId } })).status).toBe('running');
    expect(await outboxTypes(a.data.taskId)).toEqual(['task.started.v1', 'skill.invoke.v1']);
    const inv = await db.prisma.skillInvocation.findMany({ where: { taskId: a.data.taskId } });
    expect(inv).toHaveLength(1);
    expect(inv[0]).toMatchObject({ category: 'core', attempt: 1, status: 'pending' });
    const failed = await db.prisma.task.findUniqueOrThrow({ where: { id: b.data.taskId } });
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatchObject({ code: 'unknown_skill' });
  });

  it('accepts only the current attempt: a stale or repeated result changes nothing', async () => {
    const e = await submitted();
    await uow.sqlTransaction((c) => startTasks(c, [e]));
    const inv = await db.prisma.skillInvocation.findFirstOrThrow({ where: { taskId: e.data.taskId } });
    await uow.sqlTransaction((c) => finishSkillTasks(c, [result(inv, 2, 'completed')], 3)); // attempt 2 was never dispatched
    expect((await db.prisma.task.findUniqueOrThrow({ where: { id: e.data.taskId } })).status).toBe('running');
    await uow.sqlTransaction((c) => finishSkillTasks(c, [result(inv, 1, 'completed'), result(inv, 1, 'completed')], 3));
    await uow.sqlTransaction((c) => finishSkillTasks(c, [result(inv, 1, 'completed')], 3));
    const task = await db.prisma.task.findUniqueOrThrow({ where: { id: e.data.taskId } });
    expect(task).toMatchObject({ status: 'completed', output: { done: 1 } });
    expect((await outboxTypes(e.data.taskId)).filter((t) => t === 'task.completed.v1')).toHaveLength(1);
  });

  it('retries a retryable failure as the next attempt, then fails the task when attempts run out', async () => {
    const e = await submitted();
    await uow.sqlTransaction((c) => startTasks(c, [e]));
    const inv = await db.prisma.skillInvocation.findFirstOrThrow({ where: { taskId: e.data.taskId } });
    await uow.sqlTransaction((c) => finishSkillTasks(c, [result(inv, 1, { code: 'timeout', retryable: true })], 2));
    expect(await db.prisma.skillInvocation.findUniqueOrThrow({ where: { id: inv.id } })).toMatchObject({ attempt: 2, status: 'pending' });
    const invokes = (await db.prisma.outbox.findMany()).map((r) => JSON.parse(r.payload) as Envelope<{ invocationId?: string; attempt?: number; idempotencyKey?: string }>).filter((x) => x.type === 'steward.skill.invoke.v1' && x.data.invocationId === inv.id);
    expect(invokes.map((x) => x.data.attempt)).toEqual([1, 2]);
    expect(new Set(invokes.map((x) => x.data.idempotencyKey))).toEqual(new Set([inv.id])); // same key across retries
    await uow.sqlTransaction((c) => finishSkillTasks(c, [result(inv, 2, { code: 'timeout', retryable: true })], 2));
    const task = await db.prisma.task.findUniqueOrThrow({ where: { id: e.data.taskId } });
    expect(task.status).toBe('failed');
    expect(task.error).toMatchObject({ code: 'timeout' });
  });
});
