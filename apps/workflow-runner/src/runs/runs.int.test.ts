// The engine against real PostgreSQL: handlers are driven with the events the other services would send, and the
// outbox is read for what the runner said. Timing-free: timers are swept explicitly after moving due times.
import { makeEvent, type Envelope, type EventKey } from '@steward/contracts';
import { retryConflicts } from '@steward/service-kit';
import { UnitOfWork, createTestSchema, outputRefFor, storeSkillOutput, type TestSchema } from '@steward/state';
import { registerDefinition, SYSTEM_TENANT } from '@steward/workflows';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineConfig } from '../engine/run-batch.js';
import { RunCache } from '../engine/run-cache.js';
import { sweepTimers } from '../engine/timers.js';
import { handleControl } from './control.handler.js';
import { handleDecisionsResolved } from './decisions.handler.js';
import { handleExternalEvents } from './external-events.handler.js';
import { handleSkillResults, type SkillResultEvent } from './skill-results.handler.js';
import { startRuns } from './start-runs.handler.js';

let db: TestSchema;
let uow: UnitOfWork;
const base: EngineConfig = { defaultMaxAttempts: 3, deadlineGraceMs: 1000, progressIntervalMs: 30_000 };
/** The engine the tests drive: without, then with a run cache (every test runs both ways). */
let engine: EngineConfig = base;
const meta = { source: 'test', tenantId: 't1', correlationId: 'x' };

beforeAll(async () => {
  db = await createTestSchema('runner');
  uow = new UnitOfWork(db.prisma, undefined, db); // the runner's transactions on node-postgres, as in production
  await db.prisma.skill.createMany({ data: ['echo', 'text.uppercase'].map((name) => ({ name, category: name === 'echo' ? 'core' : 'text', description: name, kind: 'code', sideEffects: 'none', timeoutMs: 1000 })) });
});
afterAll(async () => {
  await db.drop();
});

async function define(doc: Record<string, unknown>): Promise<void> {
  const r = await registerDefinition(db.prisma, doc, SYSTEM_TENANT);
  if (!r.ok) throw new Error(JSON.stringify(r));
}

async function start(workflow: string, input: Record<string, unknown> = {}): Promise<string> {
  const runId = randomUUID();
  const taskId = randomUUID();
  await db.prisma.task.create({ data: { id: taskId, tenantId: 't1', kind: 'workflow', workflowName: workflow, workflowVersion: 1, input: {}, status: 'running' } });
  const e = makeEvent('workflow.start.v1', { runId, taskId, tenantId: 't1', workflow, version: 1, input }, meta).envelope;
  await uow.sqlTransaction((c) => startRuns(c, engine, [e]));
  return runId;
}

/** The runner's events about a run (and its child runs), in order. */
async function events(runId?: string): Promise<Envelope<Record<string, unknown>>[]> {
  const all = (await db.prisma.outbox.findMany({ orderBy: { id: 'asc' } })).map((r) => JSON.parse(r.payload) as Envelope<Record<string, unknown>>);
  return runId ? all.filter((e) => e.subject === runId || e.data['runId'] === runId) : all;
}
const types = (es: Envelope<Record<string, unknown>>[]) => es.map((e) => e.type.replace(/^steward\./, '').replace(/\.v1$/, ''));

async function steps(runId: string) {
  return Object.fromEntries((await db.prisma.stepRun.findMany({ where: { runId } })).map((s) => [s.stepPath, s]));
}
const run = (runId: string) => db.prisma.workflowRun.findUniqueOrThrow({ where: { id: runId } });

function result(stepRunId: string, attempt: number, outcome: { output: unknown } | { error: { code: string; message?: string; retryable: boolean } }): SkillResultEvent {
  const base = { invocationId: stepRunId, stepRunId, taskId: 'x', requester: 'workflow-runner' as const, attempt, durationMs: 1 };
  if ('output' in outcome) return { key: 'skill.invocation.completed.v1', envelope: makeEvent('skill.invocation.completed.v1', { ...base, output: outcome.output }, meta).envelope };
  return { key: 'skill.invocation.failed.v1', envelope: makeEvent('skill.invocation.failed.v1', { ...base, error: { message: 'boom', ...outcome.error } }, meta).envelope };
}
// As the consumer runs a batch: again at once after a conflict (a stale cached run fails its claim with 40001).
const deliver = (...r: SkillResultEvent[]) => retryConflicts(() => uow.sqlTransaction((c) => handleSkillResults(c, engine, r)));

/** Completes every scheduled skill step of a run with `output(stepPath, input)`. */
async function completeScheduled(runId: string, output: (path: string, input: unknown) => unknown = (_p, i) => i): Promise<string[]> {
  const s = await db.prisma.stepRun.findMany({ where: { runId, status: { in: ['scheduled', 'running'] } }, orderBy: { stepPath: 'asc' } });
  if (s.length > 0) await deliver(...s.map((x) => result(x.id, x.attempt, { output: output(x.stepPath, x.input) })));
  return s.map((x) => x.stepPath);
}

function control(runId: string, action: Parameters<typeof makeEvent<'workflow.control.v1'>>[1]['action']) {
  const e = makeEvent('workflow.control.v1', { requestId: randomUUID(), tenantId: 't1', runId, action }, meta).envelope;
  return uow.sqlTransaction((c) => handleControl(c, engine, [e]));
}

/** Makes every timer of a run due now, then sweeps. */
async function fastForward(runId: string) {
  await db.prisma.$executeRaw`UPDATE step_runs SET next_attempt_at = now() - interval '1 ms' WHERE run_id = ${runId} AND next_attempt_at IS NOT NULL`;
  await sweepTimers(uow, engine);
}

const of = <K extends EventKey>(es: Envelope<Record<string, unknown>>[], key: K) => es.filter((e) => e.type === `steward.${key}`);

describe.each([
  { name: 'reading every run', cache: false },
  { name: 'with the run cache', cache: true },
])('workflow engine (real PostgreSQL), $name', ({ cache }) => {
  beforeAll(() => {
    engine = cache ? { ...base, runCache: new RunCache() } : base;
  });
  afterAll(() => {
    // Most results came from the cache; the rest followed changes made outside the engine (the tests' own SQL).
    if (cache) expect(engine.runCache!.hits).toBeGreaterThan(engine.runCache!.misses);
  });

  it('follows stages, parallel stages and depends_on, skips on when, wires inputs with expressions, and computes outputs', async () => {
    await define({
      name: 't.dag',
      version: 1,
      inputs: { type: 'object', properties: { word: { type: 'string' }, deploy: { type: 'boolean' } }, required: ['word'] },
      stages: [
        { steps: [{ id: 'first', skill: 'echo', with: { word: '${{ inputs.word }}' } }] },
        { parallel: true, steps: [{ id: 'left', skill: 'text.uppercase' }, { id: 'right', skill: 'echo', with: { n: '${{ size(steps.first.output.word) }}' } }, { id: 'deploy', skill: 'echo', when: 'inputs.deploy == true' }] },
        { steps: [{ id: 'join', skill: 'echo', with: { both: '${{ steps.left.output.word }}-${{ steps.right.output.n }}' } }, { id: 'after', skill: 'echo', depends_on: ['deploy'] }] },
      ],
      outputs: { result: '${{ steps.join.output.both }}', deployed: '${{ steps.deploy.status }}' },
    });
    const id = await start('t.dag', { word: 'hey', deploy: false });
    expect(await completeScheduled(id)).toEqual(['first']);
    // left and right are scheduled together (a parallel stage); deploy is skipped by its condition.
    expect(await completeScheduled(id, (p, i) => (p === 'left' ? { word: 'HEY' } : i))).toEqual(['left', 'right']);
    expect((await steps(id))['deploy']!.status).toBe('skipped');
    expect(await completeScheduled(id)).toEqual(['join']);
    expect((await steps(id))['join']!.input).toEqual({ both: 'HEY-3' });
    expect(await completeScheduled(id)).toEqual(['after']);
    const r = await run(id);
    expect(r.status).toBe('completed');
    expect(r.output).toEqual({ result: 'HEY-3', deployed: 'skipped' });
    expect(types(await events(id))).toEqual([
      'workflow.run.started',
      'step.run.scheduled',
      'step.run.completed',
      'step.run.scheduled',
      'step.run.scheduled',
      'step.run.skipped',
      'step.run.completed',
      'step.run.completed',
      'step.run.scheduled',
      'step.run.completed',
      'step.run.scheduled',
      'step.run.completed',
      'workflow.run.completed',
    ]);
  });

  it('refuses a run whose input the definition refuses, without creating it', async () => {
    const id = await start('t.dag', { deploy: 'yes' });
    expect(await db.prisma.workflowRun.findUnique({ where: { id } })).toBeNull();
    const [failed] = of(await events(id), 'workflow.run.failed.v1');
    expect(failed!.data['error']).toMatchObject({ code: 'invalid_input' });
    expect((failed!.data['error'] as { message: string }).message).toMatch(/must have required property 'word'/);
  });

  it('accepts a result only for the current attempt, once', async () => {
    await define({ name: 't.pair', version: 1, steps: [{ id: 'one', skill: 'echo', retry: { max_attempts: 3, backoff: { type: 'fixed', initial: '1s' } } }, { id: 'two', skill: 'echo' }] });
    const id = await start('t.pair', { a: 1 });
    const one = (await steps(id))['one']!;
    await deliver(result(one.id, 1, { error: { code: 'flaky', retryable: true } }));
    expect((await steps(id))['one']).toMatchObject({ status: 'waiting', waitFor: 'retry', attempt: 1 });
    await fastForward(id);
    expect((await steps(id))['one']).toMatchObject({ status: 'scheduled', attempt: 2 });
    await deliver(result(one.id, 1, { output: { stale: true } })); // a late result of attempt 1
    expect((await steps(id))['one']!.status).toBe('scheduled');
    await deliver(result(one.id, 2, { output: { fresh: true } }), result(one.id, 2, { output: { again: true } }));
    const s = await steps(id);
    expect(s['one']).toMatchObject({ status: 'completed', output: { fresh: true } });
    expect(s['two']).toMatchObject({ status: 'scheduled', input: { fresh: true } });
    expect(of(await events(id), 'step.run.completed.v1')).toHaveLength(1);
  });

  it('backs off between attempts, parks when attempts run out or the error is not retryable, and resumes by retry or skip', async () => {
    await define({
      name: 't.park',
      version: 1,
      stages: [{ parallel: true, steps: [{ id: 'a', skill: 'echo', retry: { max_attempts: 2, backoff: { type: 'exponential', initial: '10s', jitter: 0 }, non_retryable: ['bad_request'] } }, { id: 'b', skill: 'echo' }] }, { steps: [{ id: 'c', skill: 'echo' }] }],
    });
    const id = await start('t.park');
    let s = await steps(id);
    await deliver(result(s['a']!.id, 1, { error: { code: 'flaky', retryable: true } }));
    s = await steps(id);
    const delay = s['a']!.nextAttemptAt!.getTime() - s['a']!.updatedAt.getTime();
    expect(delay).toBeGreaterThan(9_000);
    expect(delay).toBeLessThanOrEqual(10_050);
    await sweepTimers(uow, engine); // not due yet
    expect((await steps(id))['a']!.status).toBe('waiting');
    await fastForward(id);
    await deliver(result(s['a']!.id, 2, { error: { code: 'flaky', retryable: true } })); // attempts spent
    expect((await steps(id))['a']!.status).toBe('parked');
    expect((await run(id)).status).toBe('parked');
    await completeScheduled(id); // b, in flight, still finishes; c waits for a
    expect((await steps(id))['c']!.status).toBe('pending');

    await control(id, { kind: 'retry', stepPath: 'a' });
    expect((await run(id)).status).toBe('running');
    s = await steps(id);
    expect(s['a']).toMatchObject({ status: 'scheduled', attempt: 3 });
    await deliver(result(s['a']!.id, 3, { error: { code: 'bad_request', retryable: true } })); // non-retryable code parks at once
    expect((await steps(id))['a']!.status).toBe('parked');
    await control(id, { kind: 'skip', stepPath: 'a', output: { given: 'by operator' } });
    s = await steps(id);
    expect(s['a']).toMatchObject({ status: 'skipped', output: { given: 'by operator' } });
    expect(s['c']).toMatchObject({ status: 'scheduled', input: { a: { given: 'by operator' }, b: {} } });
    await completeScheduled(id);
    expect((await run(id)).status).toBe('completed');
    expect(types(of(await events(id), 'workflow.run.parked.v1'))).toHaveLength(2);
    expect(of(await events(id), 'workflow.run.resumed.v1').map((e) => e.data['action'])).toEqual(['retry', 'skip']);
  });

  it('fans out with for_each under its concurrency limit and gathers outputs in order', async () => {
    await define({ name: 't.fan', version: 1, steps: [{ id: 'fan', skill: 'echo', for_each: { items: 'inputs.xs', concurrency: 2 }, with: { x: '${{ item * 10 }}', i: '${{ index }}' } }, { id: 'sum', skill: 'echo' }] });
    const id = await start('t.fan', { xs: [1, 2, 3, 4, 5] });
    for (const batch of [['fan[0]', 'fan[1]'], ['fan[2]', 'fan[3]'], ['fan[4]']]) expect(await completeScheduled(id)).toEqual(batch);
    const s = await steps(id);
    expect(s['fan']!.output).toEqual([1, 2, 3, 4, 5].map((x, i) => ({ x: x * 10, i })));
    expect(s['sum']!.input).toEqual({ value: s['fan']!.output });
  });

  it('runs a child workflow for a workflow step and resumes the parent with its output', async () => {
    await define({ name: 't.child', version: 1, steps: [{ id: 'inner', skill: 'text.uppercase' }] });
    await define({ name: 't.parent', version: 1, steps: [{ id: 'call', workflow: { name: 't.child' }, with: { w: '${{ inputs.w }}' } }, { id: 'done', skill: 'echo' }] });
    const id = await start('t.parent', { w: 'x' });
    const child = await db.prisma.workflowRun.findFirstOrThrow({ where: { parentRunId: id } });
    expect(child.status).toBe('running');
    await completeScheduled(child.id, () => ({ w: 'X' }));
    expect((await run(child.id)).status).toBe('completed');
    expect((await steps(id))['call']).toMatchObject({ status: 'completed', output: { w: 'X' } });
    expect((await steps(id))['done']!.status).toBe('scheduled');
    expect(of(await events(child.id), 'workflow.run.completed.v1')[0]!.data['parentRunId']).toBe(id);
  });

  it('a wait step takes an event published before it waited (lookback) and one published after', async () => {
    await define({
      name: 't.wait',
      version: 1,
      steps: [
        { id: 'early', wait: { event: 'build.done', key: '${{ inputs.pr }}', lookback: '1h' } },
        { id: 'late', wait: { event: 'deploy.approved', key: '${{ inputs.pr }}' } },
        { id: 'pause', wait: { duration: '5m' } },
      ],
    });
    const publish = (name: string, key: string, data: unknown) =>
      uow.sqlTransaction((c) => handleExternalEvents(c, engine, [makeEvent('external.event.v1', { eventId: randomUUID(), tenantId: 't1', name, key, data }, meta).envelope]));
    await publish('build.done', 'pr-7', { ok: true }); // before the run even starts
    await publish('deploy.approved', 'pr-7', { by: 'early bird' }); // before 'late' waits, and it has no lookback
    const id = await start('t.wait', { pr: 'pr-7' });
    let s = await steps(id);
    expect(s['early']).toMatchObject({ status: 'completed', output: { event: 'build.done', key: 'pr-7', data: { ok: true } } });
    expect(s['late']).toMatchObject({ status: 'waiting', waitFor: 'event' });
    await publish('deploy.approved', 'pr-8', { by: 'someone else' }); // another key
    expect((await steps(id))['late']!.status).toBe('waiting');
    await publish('deploy.approved', 'pr-7', { by: 'ana' });
    s = await steps(id);
    expect(s['late']).toMatchObject({ status: 'completed', output: { data: { by: 'ana' } } });
    expect(s['pause']).toMatchObject({ status: 'waiting', waitFor: 'timer' });
    await fastForward(id);
    expect((await run(id)).status).toBe('completed');
  });

  it('a decision step asks the escalation service and continues with the resolution', async () => {
    await define({ name: 't.decide', version: 1, steps: [{ id: 'ask', decision: { type: 'deploy', options: [{ id: 'go', label: 'Deploy' }, { id: 'stop', label: 'Hold' }], proposal: 'go', context: { risk: '${{ inputs.risk }}' } } }, { id: 'act', skill: 'echo', with: { choice: '${{ steps.ask.output.choice }}' } }] });
    const id = await start('t.decide', { risk: 'low' });
    const [requested] = of(await events(id), 'decision.requested.v1');
    expect(requested!.data).toMatchObject({ type: 'deploy', proposal: 'go', context: { risk: 'low' }, runId: id });
    const resolved = makeEvent('decision.resolved.v1', { decisionId: requested!.data['decisionId'] as string, choice: 'stop', resolvedBy: 'human', reasons: ['friday'] }, meta).envelope;
    await uow.sqlTransaction((c) => handleDecisionsResolved(c, engine, [resolved]));
    expect((await steps(id))['act']).toMatchObject({ status: 'scheduled', input: { choice: 'stop' } });
  });

  it('a decision step sends its fallback with a due time, and withdraws its decision when the run is cancelled', async () => {
    const options = [{ id: 'go', label: 'Deploy' }, { id: 'stop', label: 'Hold' }];
    await define({ name: 't.withdraw', version: 1, steps: [{ id: 'ask', decision: { type: 'deploy', options, fallback: 'stop', fallback_after: '1h' } }] });
    const id = await start('t.withdraw', {});
    const [requested] = of(await events(id), 'decision.requested.v1');
    expect(requested!.data).toMatchObject({ fallback: 'stop', fallbackAt: expect.any(String) as string });
    expect(Date.parse(requested!.data['fallbackAt'] as string) - Date.now()).toBeGreaterThan(3_500_000);
    await control(id, { kind: 'cancel', reason: 'not needed' });
    const [withdrawn] = of(await events(id), 'decision.withdrawn.v1');
    expect(withdrawn!.data).toMatchObject({ decisionId: requested!.data['decisionId'], type: 'deploy', options, reason: 'not needed' });
  });

  it('cancelling a run stops its running skills and its child runs', async () => {
    await define({ name: 't.cancel', version: 1, stages: [{ parallel: true, steps: [{ id: 'work', skill: 'echo' }, { id: 'sub', workflow: { name: 't.child' } }] }] });
    const id = await start('t.cancel', {});
    const child = await db.prisma.workflowRun.findFirstOrThrow({ where: { parentRunId: id } });
    await control(id, { kind: 'cancel', reason: 'changed my mind' });
    expect((await run(id)).status).toBe('cancelled');
    expect((await run(child.id)).status).toBe('cancelled');
    const cancels = of(await events(), 'skill.invocation.cancel.v1').map((e) => e.data['invocationId']);
    expect(cancels).toEqual(expect.arrayContaining([(await steps(id))['work']!.id, (await steps(child.id))['inner']!.id]));
    expect((await db.prisma.skillInvocation.findUniqueOrThrow({ where: { id: (await steps(id))['work']!.id } })).status).toBe('cancelled');
    // A late result changes nothing.
    await deliver(result((await steps(id))['work']!.id, 1, { output: {} }));
    expect((await steps(id))['work']!.status).toBe('cancelled');
  });

  it('a started report gives the attempt to its worker (lease); missed heartbeats fail the attempt, stop the worker and retry', async () => {
    await define({ name: 't.lease', version: 1, steps: [{ id: 'beat', skill: 'echo', heartbeat_timeout: '30s', retry: { max_attempts: 2, backoff: { type: 'fixed', initial: '1s', jitter: 0 } } }] });
    const id = await start('t.lease', {});
    let beat = (await steps(id))['beat']!;
    const progress = (key: 'skill.invocation.started.v1' | 'skill.invocation.heartbeat.v1', attempt: number): SkillResultEvent =>
      ({ key, envelope: makeEvent(key, { invocationId: beat.id, stepRunId: beat.id, taskId: 'x', requester: 'workflow-runner', attempt, worker: 'w-1' }, meta).envelope });
    expect(beat.leaseExpiresAt).not.toBeNull();
    await deliver(progress('skill.invocation.started.v1', 1));
    beat = (await steps(id))['beat']!;
    expect(beat).toMatchObject({ status: 'running', leaseOwner: 'w-1' });
    expect(of(await events(id), 'step.run.started.v1')).toHaveLength(1);
    await db.prisma.$executeRaw`UPDATE step_runs SET lease_expires_at = now() - interval '1 ms' WHERE run_id = ${id}`;
    await sweepTimers(uow, engine);
    beat = (await steps(id))['beat']!;
    expect(beat).toMatchObject({ status: 'waiting', waitFor: 'retry', leaseOwner: null, error: { code: 'heartbeat_timeout' } });
    expect(of(await events(), 'skill.invocation.cancel.v1').map((e) => e.data['invocationId'])).toContain(beat.id);
    await deliver(progress('skill.invocation.heartbeat.v1', 1)); // the old attempt's late heartbeat changes nothing
    expect((await steps(id))['beat']!.status).toBe('waiting');
  });

  it('an output that came by reference is read from skill_outputs; step.run.completed carries the reference, not the output', async () => {
    await define({ name: 't.big', version: 1, steps: [{ id: 'b', skill: 'echo' }, { id: 'after', skill: 'echo' }] });
    const id = await start('t.big', {});
    const b = (await steps(id))['b']!;
    const body = { rows: Array.from({ length: 50 }, (_, i) => ({ i, text: 'z'.repeat(100) })) };
    const json = JSON.stringify(body);
    const ref = outputRefFor(`${b.id}:1`, json, 1024)!;
    await storeSkillOutput(db.prisma, 't1', ref, json);
    const base = { invocationId: b.id, stepRunId: b.id, taskId: 'x', requester: 'workflow-runner' as const, attempt: 1, durationMs: 1 };
    await deliver({ key: 'skill.invocation.completed.v1', envelope: makeEvent('skill.invocation.completed.v1', { ...base, output: null, outputRef: ref }, meta).envelope });
    const s = await steps(id);
    expect(s['b']).toMatchObject({ status: 'completed', output: body });
    expect(s['after']).toMatchObject({ status: 'scheduled', input: body });
    const [done] = of(await events(id), 'step.run.completed.v1');
    expect(done!.data).toMatchObject({ stepPath: 'b', output: null, outputRef: ref });
  });

  it('a result that says when its skill began records the start and emits step.run.started before the completion', async () => {
    await define({ name: 't.quick', version: 1, steps: [{ id: 'q', skill: 'echo' }] });
    const id = await start('t.quick', {});
    const q = (await steps(id))['q']!;
    const began = new Date(Date.now() - 5);
    const base = { invocationId: q.id, stepRunId: q.id, taskId: 'x', requester: 'workflow-runner' as const, attempt: 1, durationMs: 5, worker: 'w-2', startedAt: began.toISOString() };
    await deliver({ key: 'skill.invocation.completed.v1', envelope: makeEvent('skill.invocation.completed.v1', { ...base, output: { ok: true } }, meta).envelope });
    expect((await steps(id))['q']).toMatchObject({ status: 'completed', startedAt: began, output: { ok: true } });
    expect(types(await events(id)).filter((t) => t.startsWith('step.run'))).toEqual(['step.run.scheduled', 'step.run.started', 'step.run.completed']);
  });

  it('fails a run past its timeout and an attempt past its deadline', async () => {
    await define({ name: 't.slow', version: 1, timeout: '1h', steps: [{ id: 'a', skill: 'echo', timeout: '1m', retry: { max_attempts: 1 } }] });
    const id = await start('t.slow', {});
    await db.prisma.$executeRaw`UPDATE step_runs SET deadline_at = now() - interval '1 ms' WHERE run_id = ${id}`;
    await sweepTimers(uow, engine);
    expect((await steps(id))['a']).toMatchObject({ status: 'parked', error: { code: 'timeout' } });
    await db.prisma.$executeRaw`UPDATE workflow_runs SET deadline_at = now() - interval '1 ms' WHERE id = ${id}`;
    await sweepTimers(uow, engine);
    expect(await run(id)).toMatchObject({ status: 'failed', error: { code: 'workflow_timeout' } });
  });
});

describe('the run cache', () => {
  it('handles results from the copy it committed, and a copy another writer made stale fails its claim, changes nothing, and the retry reads the run', async () => {
    await define({ name: 't.three', version: 1, steps: [{ id: 'a', skill: 'echo' }, { id: 'b', skill: 'echo' }, { id: 'c', skill: 'echo' }] });
    const cache = new RunCache();
    const cached: EngineConfig = { ...base, runCache: cache };
    const other: EngineConfig = base; // another replica, which reads every run
    const runId = randomUUID();
    const taskId = randomUUID();
    await db.prisma.task.create({ data: { id: taskId, tenantId: 't1', kind: 'workflow', workflowName: 't.three', workflowVersion: 1, input: {}, status: 'running' } });
    await uow.sqlTransaction((c) => startRuns(c, cached, [makeEvent('workflow.start.v1', { runId, taskId, tenantId: 't1', workflow: 't.three', version: 1, input: { n: 1 } }, meta).envelope]));
    expect(cache.size).toBe(1);
    const scheduled = async (path: string) => (await steps(runId))[path]!;
    const handle = (config: EngineConfig, path: string) => async () => {
      const s = await scheduled(path);
      return uow.sqlTransaction((c) => handleSkillResults(c, config, [result(s.id, s.attempt, { output: { from: path } })]));
    };

    // a: from the cache (no read), and the version moves on with the write.
    await handle(cached, 'a')();
    expect(cache).toMatchObject({ hits: 1, misses: 0 });
    expect((await run(runId)).version).toBe(1);
    expect((await scheduled('b')).status).toBe('scheduled');

    // b: another replica handles it (its lock raises the version, and its write again); the cached copy (b
    // scheduled, version 1) is now stale.
    await handle(other, 'b')();
    expect((await run(runId)).version).toBe(3);
    const outbox = (await events(runId)).length;

    // c: the stale copy says c is still pending and would ignore the result; the claim refuses it (40001), and the
    // transaction leaves nothing behind.
    const stale = handle(cached, 'c');
    await expect(stale()).rejects.toMatchObject({ code: '40001' });
    expect(cache).toMatchObject({ hits: 2, size: 0 });
    expect((await scheduled('c')).status).toBe('scheduled');
    expect((await run(runId)).version).toBe(3);
    expect(await events(runId)).toHaveLength(outbox);

    // Run again (as the consumer does), it reads the run under its lock and completes it.
    await stale();
    expect(cache.misses).toBe(1);
    expect(await run(runId)).toMatchObject({ status: 'completed', output: { from: 'c' }, version: 5 });
    expect(types(await events(runId)).slice(-2)).toEqual(['step.run.completed', 'workflow.run.completed']);
    expect(cache.size).toBe(0); // ended runs are not kept
  });
});
