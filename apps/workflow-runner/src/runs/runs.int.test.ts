// The workflow-runner's handlers and definition registry against real PostgreSQL.
import { makeEvent, type Envelope } from '@steward/contracts';
import { UnitOfWork, createTestSchema, type TestSchema } from '@steward/state';
import { randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerDefinitions } from '../definitions/register-definitions.js';
import { advanceRuns, type SkillResultEvent } from './advance-run.handler.js';
import { startRun } from './start-run.handler.js';

let db: TestSchema;
let uow: UnitOfWork;
let dir: string;
const meta = { source: 'test', tenantId: 't1', correlationId: 'x' };

beforeAll(async () => {
  db = await createTestSchema('runner');
  uow = new UnitOfWork(db.prisma);
  await db.prisma.skill.createMany({ data: ['echo', 'text.uppercase'].map((name) => ({ name, category: name === 'echo' ? 'core' : 'text', description: name, kind: 'code', sideEffects: 'none', timeoutMs: 1000 })) });
  dir = await mkdtemp(join(tmpdir(), 'workflows-'));
  await writeFile(join(dir, 'pipe.yaml'), 'name: test.pipe\nversion: 1\nsteps:\n  - id: one\n    skill: echo\n  - id: two\n    skill: text.uppercase\n');
  await writeFile(join(dir, 'broken.yaml'), 'name: test.broken\nversion: 1\nsteps: []\n');
});
afterAll(async () => {
  await db.drop();
});

const events = async (runId: string) => (await db.prisma.outbox.findMany({ orderBy: { id: 'asc' } })).map((r) => JSON.parse(r.payload) as Envelope<Record<string, unknown>>).filter((e) => e.subject === runId);

function completed(stepRunId: string, taskId: string, attempt: number, output: unknown): SkillResultEvent {
  return { key: 'skill.invocation.completed.v1', envelope: makeEvent('skill.invocation.completed.v1', { invocationId: stepRunId, stepRunId, taskId, requester: 'workflow-runner', attempt, output, durationMs: 1 }, meta).envelope };
}

describe('workflow runs (real PostgreSQL)', () => {
  it('registers valid definitions, refuses invalid ones, and refuses to change a definition a run has used', async () => {
    const first = await registerDefinitions(db.prisma, dir);
    expect(first.registered).toEqual(['test.pipe@1']);
    expect(first.refused.map((r) => r.file)).toEqual(['broken.yaml']);
    expect((await registerDefinitions(db.prisma, dir)).unchanged).toEqual(['test.pipe@1']);
  });

  it('runs the steps in order, each fed by the previous output, ignoring stale and repeated results', async () => {
    const taskId = randomUUID();
    const runId = randomUUID();
    await db.prisma.task.create({ data: { id: taskId, tenantId: 't1', kind: 'workflow', workflowName: 'test.pipe', workflowVersion: 1, input: {}, status: 'running' } });
    const start = makeEvent('workflow.start.v1', { runId, taskId, tenantId: 't1', workflow: 'test.pipe', version: 1, input: { word: 'hi' } }, meta).envelope;
    await uow.run((c) => startRun(c, start));
    await uow.run((c) => startRun(c, start)); // a redelivered start does not make a second run
    const steps = await db.prisma.stepRun.findMany({ where: { runId }, orderBy: { stepPath: 'asc' } });
    expect(steps.map((s) => [s.stepPath, s.status])).toEqual([['one', 'scheduled'], ['two', 'pending']]);
    const [one, two] = steps as [(typeof steps)[0], (typeof steps)[0]];

    await uow.run((c) => advanceRuns(c, [completed(one.id, taskId, 2, { word: 'stale' })], 3)); // attempt 2 never ran
    expect((await db.prisma.stepRun.findUniqueOrThrow({ where: { id: one.id } })).status).toBe('scheduled');
    await uow.run((c) => advanceRuns(c, [completed(one.id, taskId, 1, { word: 'hi' }), completed(one.id, taskId, 1, { word: 'hi' })], 3));
    expect(await db.prisma.stepRun.findUniqueOrThrow({ where: { id: two.id } })).toMatchObject({ status: 'scheduled', attempt: 1, input: { word: 'hi' } });
    await uow.run((c) => advanceRuns(c, [completed(two.id, taskId, 1, { word: 'HI' })], 3));

    const run = await db.prisma.workflowRun.findUniqueOrThrow({ where: { id: runId } });
    expect(run).toMatchObject({ status: 'completed', output: { word: 'HI' } });
    const types = (await events(runId)).map((e) => e.type.replace('steward.', ''));
    expect(types.filter((t) => t === 'step.run.completed.v1')).toHaveLength(2);
    expect(types.filter((t) => t === 'workflow.run.completed.v1')).toHaveLength(1);
    expect(types[0]).toBe('workflow.run.started.v1');

    // The definition is pinned now: changing it under the same version is refused.
    await writeFile(join(dir, 'pipe.yaml'), 'name: test.pipe\nversion: 1\nsteps:\n  - id: one\n    skill: echo\n');
    expect((await registerDefinitions(db.prisma, dir)).refused.map((r) => r.reason).join()).toContain('changed after runs used it');
  });

  it('fails the run, without a run row, for an unknown workflow', async () => {
    const runId = randomUUID();
    const start = makeEvent('workflow.start.v1', { runId, taskId: randomUUID(), tenantId: 't1', workflow: 'no.such', version: 1, input: {} }, meta).envelope;
    await uow.run((c) => startRun(c, start));
    expect(await db.prisma.workflowRun.findUnique({ where: { id: runId } })).toBeNull();
    const failed = (await events(runId)).find((e) => e.type === 'steward.workflow.run.failed.v1');
    expect(failed?.data).toMatchObject({ error: { code: 'unknown_workflow' } });
  });
});
