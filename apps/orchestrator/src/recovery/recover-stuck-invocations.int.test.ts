import type { Envelope } from '@steward/contracts';
import { UnitOfWork, createTestSchema, type TestSchema } from '@steward/state';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recoverStuckInvocations } from './recover-stuck-invocations.js';

let db: TestSchema;
let uow: UnitOfWork;
beforeAll(async () => {
  db = await createTestSchema('recovery');
  uow = new UnitOfWork(db.prisma, undefined, db); // the raw transactions the service runs on
  await db.prisma.skill.create({ data: { name: 'echo', category: 'core', description: 'echo', kind: 'code', sideEffects: 'none', timeoutMs: 1000 } });
});
afterAll(async () => {
  await db.drop();
});

/** A running single-skill task whose invocation (attempt `attempt`) was dispatched `agoMs` ago. */
async function task(attempt: number, agoMs: number): Promise<{ taskId: string; invocationId: string }> {
  const taskId = randomUUID();
  const invocationId = randomUUID();
  await db.prisma.task.create({ data: { id: taskId, tenantId: 't1', kind: 'skill', skill: 'echo', input: { a: 1 }, status: 'running' } });
  await db.prisma.skillInvocation.create({ data: { id: invocationId, tenantId: 't1', taskId, skill: 'echo', category: 'core', attempt, requester: 'orchestrator', input: { a: 1 }, status: 'pending', dispatchedAt: new Date(Date.now() - agoMs) } });
  return { taskId, invocationId };
}

describe('recovery of stuck invocations (real PostgreSQL)', () => {
  it('dispatches a stuck invocation again as the next attempt, leaves young ones alone, and fails the task when attempts are spent', async () => {
    const stuck = await task(1, 60_000);
    const young = await task(1, 100);
    const spent = await task(3, 60_000);
    const n = await uow.sqlTransaction((ctx) => recoverStuckInvocations(ctx, { stuckAfterMs: 30_000, maxAttempts: 3 }));
    expect(n).toBe(2);

    expect(await db.prisma.skillInvocation.findUniqueOrThrow({ where: { id: stuck.invocationId } })).toMatchObject({ attempt: 2, status: 'pending' });
    const invokes = (await db.prisma.outbox.findMany()).map((r) => JSON.parse(r.payload) as Envelope<{ invocationId: string; attempt: number }>).filter((e) => e.type === 'steward.skill.invoke.v1');
    expect(invokes.map((e) => [e.data.invocationId, e.data.attempt])).toEqual([[stuck.invocationId, 2]]);

    expect(await db.prisma.skillInvocation.findUniqueOrThrow({ where: { id: young.invocationId } })).toMatchObject({ attempt: 1, status: 'pending' });
    expect(await db.prisma.skillInvocation.findUniqueOrThrow({ where: { id: spent.invocationId } })).toMatchObject({ status: 'timed_out' });
    const failed = await db.prisma.task.findUniqueOrThrow({ where: { id: spent.taskId } });
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatchObject({ code: 'stuck' });

    // Just re-dispatched: not stuck any more.
    expect(await uow.sqlTransaction((ctx) => recoverStuckInvocations(ctx, { stuckAfterMs: 30_000, maxAttempts: 3 }))).toBe(0);
  });
});
