// Skill-worker pools on real NATS JetStream and PostgreSQL: two pools with different category filters each take only
// their categories' invocations, and a skill that overruns its timeout is stopped and reported as timed out.
import 'reflect-metadata';
import { Global, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Filters, makeEvent, type Envelope, type ErrorInfo, type SkillInvokeV1 } from '@steward/contracts';
import { ServiceRuntime, loadConfig } from '@steward/service-kit';
import { createTestSchema, type TestSchema } from '@steward/state';
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SkillWorkerConfig } from '../config.js';
import { SkillWorkerModule } from '../skill-worker.module.js';

type Result = { type: string; data: { invocationId: string; error?: ErrorInfo; output?: unknown; durationMs: number } };

let db: TestSchema;
const namespace = `t${randomBytes(4).toString('hex')}`;
const workers: { rt: ServiceRuntime; app: INestApplicationContext }[] = [];
const results: Result[] = [];
let stopReading: () => Promise<void>;

async function startPool(categories: string): Promise<ServiceRuntime> {
  const config = loadConfig(SkillWorkerConfig, { DATABASE_URL: db.databaseUrl, DATABASE_SCHEMA: db.schema, NATS_NAMESPACE: namespace, LOG_LEVEL: 'silent', SKILL_CATEGORIES: categories });
  const rt = await ServiceRuntime.start({ service: 'skill-worker', config });
  @Global()
  @Module({ providers: [{ provide: ServiceRuntime, useValue: rt }], exports: [ServiceRuntime] })
  class RuntimeModule {}
  @Module({ imports: [RuntimeModule, SkillWorkerModule] })
  class RootModule {}
  const app = await NestFactory.createApplicationContext(RootModule, { logger: false });
  await app.init();
  workers.push({ rt, app });
  return rt;
}

function invoke(skill: string, category: string, input: Record<string, unknown>, timeoutMs = 60_000): Envelope<SkillInvokeV1> {
  const invocationId = randomUUID();
  return makeEvent(
    'skill.invoke.v1',
    { invocationId, tenantId: 't1', taskId: randomUUID(), requester: 'orchestrator', skill, category, attempt: 1, idempotencyKey: invocationId, input, timeoutMs },
    { source: 'steward/test', tenantId: 't1', correlationId: invocationId },
  ).envelope;
}

async function until(cond: () => boolean, ms = 15_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting');
    await sleep(20);
  }
}
const resultOf = (id: string) => results.find((r) => r.data.invocationId === id);

beforeAll(async () => {
  db = await createTestSchema('skill_pools');
  const core = await startPool('core');
  await startPool('text');
  const consumer = await core.bus.js.consumers.get(core.bus.streamName('events'), { filter_subjects: core.bus.wireSubject(Filters.skillResultsFor('orchestrator')) });
  const messages = await consumer.consume();
  const loop = (async () => {
    for await (const m of messages) results.push(m.json<Result>());
  })();
  stopReading = async () => {
    await messages.close();
    await loop;
  };
});
afterAll(async () => {
  await stopReading();
  for (const w of workers) await w.app.close();
  const rt = workers[0]!.rt;
  for (const key of ['events', 'commands', 'deadLetters'] as const) await rt.bus.jsm.streams.delete(rt.bus.streamName(key)).catch(() => false);
  for (const w of workers) await w.rt.shutdown();
  await db.drop();
});

describe('skill-worker pools (real NATS JetStream)', () => {
  it('two pools with different category filters each receive only their skills', async () => {
    const bus = workers[0]!.rt.bus;
    const core = [invoke('echo', 'core', { n: 1 }), invoke('echo', 'core', { n: 2 }), invoke('util.sleep', 'core', { ms: 5 })];
    const text = [invoke('text.uppercase', 'text', { s: 'a' }), invoke('text.wordcount', 'text', { text: 'two words' })];
    for (const e of [...core, ...text]) await bus.publish(makeEvent('skill.invoke.v1', e.data, { source: 'steward/test', tenantId: 't1', correlationId: e.data.taskId, id: e.id }));
    await until(() => [...core, ...text].every((e) => resultOf(e.data.invocationId)?.type === 'steward.skill.invocation.completed.v1'));
    const delivered = async (durable: string) => (await bus.jsm.consumers.info(bus.streamName('commands'), durable)).delivered.consumer_seq;
    expect(await delivered('skill-worker-core')).toBe(core.length);
    expect(await delivered('skill-worker-text')).toBe(text.length);
    expect(resultOf(text[0]!.data.invocationId)!.data.output).toEqual({ s: 'A' });
  });

  it('stops a skill that overruns its timeout and reports it as timed out, retryable', async () => {
    const bus = workers[0]!.rt.bus;
    const e = invoke('util.sleep', 'core', { ms: 20_000 }, 300);
    const t0 = Date.now();
    await bus.publish(makeEvent('skill.invoke.v1', e.data, { source: 'steward/test', tenantId: 't1', correlationId: e.data.taskId, id: e.id }));
    await until(() => resultOf(e.data.invocationId) !== undefined);
    const r = resultOf(e.data.invocationId)!;
    expect(r.type).toBe('steward.skill.invocation.failed.v1');
    expect(r.data.error).toMatchObject({ code: 'timeout', retryable: true });
    expect(Date.now() - t0).toBeLessThan(10_000); // not the 20 s the skill wanted
  });
});
