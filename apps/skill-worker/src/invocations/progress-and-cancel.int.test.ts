import 'reflect-metadata';
import { Global, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createTestBus, type Bus, type Logger } from '@steward/bus';
import { Filters, deterministicId, makeEvent, type Envelope, type ErrorInfo, type SkillInvokeV1 } from '@steward/contracts';
import { ServiceRuntime, loadConfig } from '@steward/service-kit';
import { createTestSchema } from '@steward/state';
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SkillWorkerConfig } from '../config.js';
import { SkillWorkerModule } from '../skill-worker.module.js';
import { sleepSkill } from '../skills/builtin.js';
import { defineSkill, type CodeSkill } from '../skills/skill.js';
import { Cancellations } from './cancellations.js';
import { STARTED_REPORT_DELAY_MS, executeInvocation } from './execute-invocation.js';

type TestBus = Awaited<ReturnType<typeof createTestBus>>;
type Seen = { type: string; id: string; data: { invocationId: string; worker?: string; startedAt?: string; error?: ErrorInfo; output?: unknown; llmUsage?: unknown } };

const WORKER = 'test-host-4242';
const ctx = { source: 'steward/test', tenantId: 't1', correlationId: 'c1' };

function invoke(over: Partial<SkillInvokeV1> = {}): Envelope<SkillInvokeV1> {
  const invocationId = randomUUID();
  const data: SkillInvokeV1 = {
    invocationId,
    tenantId: 't1',
    taskId: randomUUID(),
    requester: 'orchestrator',
    skill: 'util.sleep',
    category: 'core',
    attempt: 1,
    idempotencyKey: invocationId,
    input: { ms: 10 },
    timeoutMs: 60_000,
    ...over,
  };
  return makeEvent('skill.invoke.v1', data, ctx).envelope;
}

const cancel = (bus: Bus, invocationId: string, reason: string, tenantId = 't1', attempt?: number) =>
  bus.publish(makeEvent('skill.invocation.cancel.v1', { invocationId, tenantId, reason, ...(attempt === undefined ? {} : { attempt }) }, { ...ctx, tenantId }));

/** Every result and progress event for the orchestrator, in stream order. */
async function collect(bus: Bus): Promise<{ seen: Seen[]; stop(): Promise<void> }> {
  const consumer = await bus.js.consumers.get(bus.streamName('events'), { filter_subjects: bus.wireSubject(Filters.skillResultsFor('orchestrator')) });
  const messages = await consumer.consume();
  const seen: Seen[] = [];
  const loop = (async () => {
    for await (const m of messages) seen.push(m.json<Seen>());
  })();
  return {
    seen,
    async stop() {
      await messages.close();
      await loop;
    },
  };
}

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting');
    await sleep(10);
  }
}

const short = (t: string): string => t.replace(/^steward\.skill\.invocation\./, '').replace(/\.v1$/, '');
const of = (seen: Seen[], invocationId: string): string[] => seen.filter((e) => e.data.invocationId === invocationId).map((e) => short(e.type));

describe('skill-worker progress and cancellation (real NATS JetStream)', () => {
  let bus: TestBus;
  let results: Awaited<ReturnType<typeof collect>>;
  let cancellations: Cancellations[];
  const skills = new Map<string, CodeSkill>([[sleepSkill.name, sleepSkill]]);

  beforeEach(async () => {
    bus = await createTestBus('skill-worker-test');
    results = await collect(bus);
    cancellations = [];
  });
  afterEach(async () => {
    for (const c of cancellations) await c.stop();
    await results.stop();
    await bus.destroy();
  });

  const listen = async (opts: Parameters<typeof Cancellations.start>[1] = {}): Promise<Cancellations> => {
    const c = await Cancellations.start(bus, opts);
    cancellations.push(c);
    return c;
  };

  it('with heartbeatMs publishes started once, a heartbeat every heartbeatMs while the skill runs, then the result', async () => {
    const e = invoke({ heartbeatMs: 100, input: { ms: 450 } });
    expect(await executeInvocation(bus, skills, e, { workerId: WORKER })).toBe('completed');
    await until(() => of(results.seen, e.data.invocationId).includes('completed'));
    const mine = results.seen.filter((s) => s.data.invocationId === e.data.invocationId);
    const types = mine.map((s) => short(s.type));
    expect(types[0]).toBe('started');
    expect(types.at(-1)).toBe('completed');
    expect(types.filter((t) => t === 'started')).toHaveLength(1);
    expect(types.filter((t) => t === 'heartbeat').length).toBeGreaterThanOrEqual(3);
    expect(types.slice(1, -1).every((t) => t === 'heartbeat')).toBe(true);
    expect(mine[0]!.id).toBe(deterministicId(e.data.invocationId, '1', 'started'));
    expect(mine.filter((s) => s.type !== 'steward.skill.invocation.completed.v1').every((s) => s.data.worker === WORKER)).toBe(true);
    expect(new Set(mine.map((s) => s.id)).size).toBe(mine.length);

    // A redelivered command runs again, but its started (and its result) is the same message: JetStream drops it.
    const before = mine.length;
    expect(await executeInvocation(bus, skills, e, { workerId: WORKER })).toBe('completed');
    await sleep(300);
    const again = of(results.seen, e.data.invocationId);
    expect(again.filter((t) => t === 'started')).toHaveLength(1);
    expect(again.filter((t) => t === 'completed')).toHaveLength(1);
    expect(again.length).toBeGreaterThan(before); // the second run's heartbeats are new events
  });

  it('without heartbeatMs publishes nothing but the result', async () => {
    const e = invoke({ input: { ms: 350 } });
    expect(await executeInvocation(bus, skills, e, { workerId: WORKER })).toBe('completed');
    await until(() => of(results.seen, e.data.invocationId).includes('completed'));
    await sleep(200);
    expect(of(results.seen, e.data.invocationId)).toEqual(['completed']);
  });

  it('with heartbeatMs, a skill that ends before the started report is due reports its start in its result only', async () => {
    const e = invoke({ heartbeatMs: 30_000, input: { ms: 20 } });
    const t0 = Date.now();
    expect(await executeInvocation(bus, skills, e, { workerId: WORKER })).toBe('completed');
    await until(() => of(results.seen, e.data.invocationId).includes('completed'));
    await sleep(STARTED_REPORT_DELAY_MS + 100);
    const mine = results.seen.filter((s) => s.data.invocationId === e.data.invocationId);
    expect(mine.map((s) => short(s.type))).toEqual(['completed']);
    expect(mine[0]!.data.worker).toBe(WORKER);
    const startedAt = Date.parse(mine[0]!.data.startedAt!);
    expect(startedAt).toBeGreaterThanOrEqual(t0);
    expect(startedAt).toBeLessThanOrEqual(Date.now());
  });

  it('sums the model usage a skill reports into its result (llmUsage), for the cost of the task', async () => {
    const llm = defineSkill({
      name: 'test.llm',
      category: 'test',
      description: 'reports two model calls',
      sideEffects: 'none',
      timeoutMs: 5000,
      input: z.object({}),
      output: z.object({ ok: z.boolean() }),
      run: async (_i, c) => {
        c.recordUsage?.('m1', { inputTokens: 100, outputTokens: 20, cacheReadTokens: 50, cacheWriteTokens: 0, costUsd: 0.001 });
        c.recordUsage?.('m1', { inputTokens: 10, outputTokens: 2, cacheReadTokens: 0, cacheWriteTokens: 5, costUsd: 0.0005 });
        return { ok: true };
      },
    });
    const e = invoke({ skill: 'test.llm', category: 'test', input: {} });
    const seen: string[] = [];
    expect(await executeInvocation(bus, new Map([[llm.name, llm]]), e, { workerId: WORKER, onUsage: (m) => seen.push(m) })).toBe('completed');
    await until(() => of(results.seen, e.data.invocationId).includes('completed'));
    const done = results.seen.find((x) => x.data.invocationId === e.data.invocationId)!;
    expect(done.data.llmUsage).toEqual({ calls: 2, inputTokens: 110, outputTokens: 22, cacheReadTokens: 50, cacheWriteTokens: 5, costUsd: 0.0015 });
    expect(seen).toEqual(['m1', 'm1']);
  });

  it('publishes an output larger than the inline limit as a reference, after storing it once', async () => {
    const echo = defineSkill({ name: 'test.big', category: 'test', description: 'echo', sideEffects: 'none', timeoutMs: 5000, input: z.object({ s: z.string() }), output: z.object({ s: z.string() }), run: async (i) => i });
    const stored: { tenantId: string; id: string; json: string }[] = [];
    const outputs = { maxInlineBytes: 1024, store: async (tenantId: string, ref: { id: string }, json: string) => void stored.push({ tenantId, id: ref.id, json }) };
    const big = invoke({ skill: 'test.big', category: 'test', input: { s: 'x'.repeat(5000) } });
    const small = invoke({ skill: 'test.big', category: 'test', input: { s: 'y' } });
    const skills = new Map([[echo.name, echo]]);
    await executeInvocation(bus, skills, big, { workerId: WORKER, outputs });
    await executeInvocation(bus, skills, small, { workerId: WORKER, outputs });
    await until(() => of(results.seen, small.data.invocationId).includes('completed') && of(results.seen, big.data.invocationId).includes('completed'));
    const bigDone = results.seen.find((x) => x.data.invocationId === big.data.invocationId)!;
    expect(bigDone.data).toMatchObject({ output: null, outputRef: { id: `${big.data.invocationId}:1`, bytes: 5008 } });
    expect(stored).toEqual([{ tenantId: 't1', id: `${big.data.invocationId}:1`, json: JSON.stringify({ s: 'x'.repeat(5000) }) }]);
    expect(results.seen.find((x) => x.data.invocationId === small.data.invocationId)!.data).toMatchObject({ output: { s: 'y' } });
  });

  it('a failing progress publish is logged and neither fails nor crashes the skill', async () => {
    const warnings: string[] = [];
    const log: Logger = { debug() {}, info() {}, error() {}, warn: (_o, msg) => void warnings.push(msg ?? '') };
    // The same bus, except that progress reports cannot be published.
    const flaky = Object.assign(Object.create(bus) as Bus, {
      publish: async (ev: Parameters<Bus['publish']>[0]) => {
        if (ev.key === 'skill.invocation.started.v1' || ev.key === 'skill.invocation.heartbeat.v1') throw new Error('nats is down');
        await bus.publish(ev);
      },
    });
    const e = invoke({ heartbeatMs: 50, input: { ms: 300 } });
    expect(await executeInvocation(flaky, skills, e, { workerId: WORKER, log })).toBe('completed');
    await until(() => of(results.seen, e.data.invocationId).includes('completed'));
    expect(of(results.seen, e.data.invocationId)).toEqual(['completed']);
    expect(warnings.length).toBeGreaterThanOrEqual(3); // started and at least two heartbeats
    expect(new Set(warnings)).toEqual(new Set(['progress report failed; the skill goes on']));
  });

  it('a cancel while util.sleep(10 s) runs aborts it and reports failed/cancelled at once', async () => {
    const c = await listen();
    const e = invoke({ heartbeatMs: 100, input: { ms: 10_000 } });
    const t0 = Date.now();
    const outcome = executeInvocation(bus, skills, e, { workerId: WORKER, cancellations: c });
    await until(() => of(results.seen, e.data.invocationId).includes('heartbeat'));
    await cancel(bus, e.data.invocationId, 'operator said stop');
    expect(await outcome).toBe('failed');
    expect(Date.now() - t0).toBeLessThan(3_000);
    await until(() => of(results.seen, e.data.invocationId).includes('failed'));
    const failed = results.seen.find((s) => s.data.invocationId === e.data.invocationId && short(s.type) === 'failed')!;
    expect(failed.data.error).toEqual({ code: 'cancelled', message: 'cancelled: operator said stop', retryable: false });
    // No heartbeat after the result.
    await sleep(300);
    expect(of(results.seen, e.data.invocationId).at(-1)).toBe('failed');
  });

  it('a cancel does not wait for a skill that ignores its signal, but the signal is aborted', async () => {
    let signal: AbortSignal | undefined;
    const stubborn = defineSkill({
      name: 'test.stubborn',
      category: 'core',
      description: 'never finishes and ignores its signal',
      sideEffects: 'none',
      timeoutMs: 60_000,
      input: z.object({}).loose(),
      output: z.object({}).loose(),
      run: (_input, sctx) => {
        signal = sctx.signal;
        return new Promise<Record<string, unknown>>(() => {});
      },
    });
    const c = await listen();
    const e = invoke({ skill: 'test.stubborn', input: {} });
    const outcome = executeInvocation(bus, new Map([[stubborn.name, stubborn]]), e, { cancellations: c });
    await until(() => signal !== undefined);
    const t0 = Date.now();
    await cancel(bus, e.data.invocationId, 'enough');
    expect(await outcome).toBe('failed');
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(signal!.aborted).toBe(true);
    await until(() => of(results.seen, e.data.invocationId).includes('failed'));
  });

  it('a cancel published before the invocation is executed keeps the skill from ever starting', async () => {
    let runs = 0;
    const counter = defineSkill({
      name: 'test.counter',
      category: 'core',
      description: 'counts its runs',
      sideEffects: 'none',
      timeoutMs: 5_000,
      input: z.object({}).loose(),
      output: z.object({ runs: z.number() }),
      run: async () => ({ runs: ++runs }),
    });
    const counted = new Map([[counter.name, counter]]);
    const doomed = invoke({ skill: 'test.counter', input: {}, heartbeatMs: 50 });
    const otherTenant = invoke({ skill: 'test.counter', input: {} });
    // Published before this worker even listens: the lookback finds them.
    await cancel(bus, doomed.data.invocationId, 'no longer needed');
    await cancel(bus, otherTenant.data.invocationId, 'not yours', 't2');
    await sleep(300);
    const c = await listen();

    expect(await executeInvocation(bus, counted, doomed, { cancellations: c })).toBe('failed');
    expect(runs).toBe(0);
    await until(() => of(results.seen, doomed.data.invocationId).includes('failed'));
    expect(of(results.seen, doomed.data.invocationId)).toEqual(['failed']); // not even started
    const failed = results.seen.find((s) => s.data.invocationId === doomed.data.invocationId)!;
    expect(failed.data.error).toEqual({ code: 'cancelled', message: 'cancelled: no longer needed', retryable: false });

    // A cancel is for its tenant's invocation only, and others run as usual.
    expect(await executeInvocation(bus, counted, otherTenant, { cancellations: c })).toBe('completed');
    expect(await executeInvocation(bus, counted, invoke({ skill: 'test.counter', input: {} }), { cancellations: c })).toBe('completed');
    expect(runs).toBe(2);
  });

  it('every listener hears every cancel, and the lookback reaches back as far as it is told', async () => {
    await cancel(bus, 'old-one', 'before the listeners');
    await sleep(400);
    const wide = await listen({ lookbackMs: 60_000 });
    const narrow = await listen({ lookbackMs: 100 });
    expect(wide.reasonFor('t1', 'old-one')).toBe('before the listeners');
    expect(narrow.reasonFor('t1', 'old-one')).toBeUndefined();

    await cancel(bus, 'new-one', 'after');
    await until(() => wide.reasonFor('t1', 'new-one') !== undefined && narrow.reasonFor('t1', 'new-one') !== undefined, 5_000);
    expect(narrow.reasonFor('t2', 'new-one')).toBeUndefined();
  });

  it('a cancel of a timed-out attempt stops that attempt only: the retry (same invocation id, next attempt) runs', async () => {
    const c = await listen({});
    const heard: string[] = [];
    c.onCancel('t1', 'step-run', () => heard.push('attempt 1'), 1);
    c.onCancel('t1', 'step-run', () => heard.push('attempt 2'), 2);
    await cancel(bus, 'step-run', 'attempt 1 timed out', 't1', 1);
    await until(() => c.reasonFor('t1', 'step-run', 1) !== undefined, 5_000);
    expect(heard).toEqual(['attempt 1']);
    expect(c.reasonFor('t1', 'step-run', 2)).toBeUndefined();
    const retry = invoke({ invocationId: 'step-run', attempt: 2, input: { ms: 10 } });
    expect(await executeInvocation(bus, skills, retry, { cancellations: c })).toBe('completed');
  });

  it('goes on hearing cancels after its consumer is lost on the server (it re-creates it from where it was)', async () => {
    const c = await listen({ idleHeartbeatMs: 500 });
    await cancel(bus, 'first', 'one');
    await until(() => c.reasonFor('t1', 'first') !== undefined, 5_000);
    const stream = bus.streamName('events');
    for await (const name of bus.jsm.consumers.list(stream)) await bus.jsm.consumers.delete(stream, name.name);
    await cancel(bus, 'second', 'two');
    await until(() => c.reasonFor('t1', 'second') !== undefined, 20_000);
    expect(c.reasonFor('t1', 'second')).toBe('two');
  });
});

describe('SkillWorkerModule (real NATS and PostgreSQL)', () => {
  it('takes invoke commands from the bus, reports progress, obeys a cancel, and stops its listener on close', async () => {
    const db = await createTestSchema('skill_worker');
    const config = loadConfig(SkillWorkerConfig, { DATABASE_URL: db.databaseUrl, DATABASE_SCHEMA: db.schema, NATS_NAMESPACE: `t${randomBytes(4).toString('hex')}`, LOG_LEVEL: 'silent' });
    const rt = await ServiceRuntime.start({ service: 'skill-worker', config });
    @Global()
    @Module({ providers: [{ provide: ServiceRuntime, useValue: rt }], exports: [ServiceRuntime] })
    class RuntimeModule {}
    @Module({ imports: [RuntimeModule, SkillWorkerModule] })
    class RootModule {}
    const results = await collect(rt.bus);
    try {
      const app = await NestFactory.createApplicationContext(RootModule, { logger: false });
      await app.init();
      const e = invoke({ heartbeatMs: 100, input: { ms: 10_000 } });
      await rt.bus.publish(makeEvent('skill.invoke.v1', e.data, { ...ctx, id: e.id }));
      await until(() => of(results.seen, e.data.invocationId).includes('heartbeat'));
      const t0 = Date.now();
      await cancel(rt.bus, e.data.invocationId, 'from the test');
      await until(() => of(results.seen, e.data.invocationId).includes('failed'), 3_000);
      expect(Date.now() - t0).toBeLessThan(3_000);
      const failed = results.seen.find((s) => s.data.invocationId === e.data.invocationId && short(s.type) === 'failed')!;
      expect(failed.data.error).toEqual({ code: 'cancelled', message: 'cancelled: from the test', retryable: false });
      expect(results.seen.find((s) => short(s.type) === 'started')!.data.worker).toMatch(/-\d+$/);
      const eventConsumers = async (): Promise<number> => {
        let n = 0;
        for await (const _c of rt.bus.jsm.consumers.list(rt.bus.streamName('events'))) n++;
        return n;
      };
      expect(await eventConsumers()).toBe(2); // the cancel listener and this test's reader
      await app.close();
      expect(await eventConsumers()).toBe(1);
    } finally {
      await results.stop();
      for (const key of ['events', 'commands', 'deadLetters'] as const) await rt.bus.jsm.streams.delete(rt.bus.streamName(key)).catch(() => false);
      await rt.shutdown();
      await db.drop();
    }
  });
});
