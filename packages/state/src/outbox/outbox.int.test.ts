import { createTestBus, startConsumer, type RunningConsumer } from '@steward/bus';
import { makeEvent } from '@steward/contracts';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestSchema, type TestSchema } from '../testing.js';
import { OutboxRelay } from './relay.js';
import { UnitOfWork } from './unit-of-work.js';

type TestBus = Awaited<ReturnType<typeof createTestBus>>;

async function until(check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > ms) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('outbox → JetStream → inbox (real PostgreSQL and NATS)', () => {
  let db: TestSchema;
  let bus: TestBus;
  let relay: OutboxRelay;
  let consumer: RunningConsumer | undefined;

  beforeEach(async () => {
    db = await createTestSchema('outbox');
    bus = await createTestBus('outbox-test');
    relay = new OutboxRelay(bus, { databaseUrl: db.databaseUrl, schema: db.schema, pollIntervalMs: 60_000, graceMs: 200, registry: new Registry() });
    await relay.start();
  });
  afterEach(async () => {
    await consumer?.stop();
    await relay.stop();
    await bus.destroy();
    await db.drop();
  });

  /** The effect under test: one task row per handled event, so a second handling would show as a second row. */
  const effects = () => db.prisma.task.count({ where: { tenantId: 'effects' } });

  it('applies each event exactly once despite a duplicated publish and a redelivery after a lost ack', async () => {
    const producer = new UnitOfWork(db.prisma, relay);
    const consumerUow = new UnitOfWork(db.prisma);
    const deliveries = new Map<string, number>();
    consumer = await startConsumer(bus, {
      durable: 'exactly-once',
      stream: 'events',
      accepts: ['task.started.v1'],
      retryDelayMs: () => 50,
      async handle(e, ctx) {
        deliveries.set(e.envelope.data.taskId, ctx.deliveryCount);
        await consumerUow.run(
          async ({ tx }) => {
            await tx.task.create({ data: { id: crypto.randomUUID(), tenantId: 'effects', kind: 'skill', skill: e.envelope.data.taskId, input: {}, status: 'completed' } });
          },
          { inbox: { consumer: 'exactly-once', eventId: e.envelope.id } },
        );
        // The first delivery of "lost-ack" commits, then fails before the ack: JetStream redelivers it.
        if (e.envelope.data.taskId === 'lost-ack' && ctx.deliveryCount === 1) throw new Error('crashed after commit, before ack');
      },
    });

    const ev = (taskId: string) => makeEvent('task.started.v1', { taskId, startedAt: new Date().toISOString() }, { source: 'test', tenantId: 't', correlationId: taskId });
    const plain = ev('plain');
    const lostAck = ev('lost-ack');
    await producer.run(async ({ emit }) => {
      emit(plain);
      emit(lostAck);
    });
    // The relay publishes after commit, woken in-process (the poll is a minute away).
    await until(async () => (await effects()) === 2);

    // A duplicated publish with the same Nats-Msg-Id is dropped by JetStream; one under another msg id reaches
    // the consumer and is stopped by the inbox.
    expect((await bus.publishRaw({ subject: plain.subject, payload: JSON.stringify(plain.envelope), msgId: plain.envelope.id })).duplicate).toBe(true);
    await bus.publishRaw({ subject: plain.subject, payload: JSON.stringify(plain.envelope), msgId: `${plain.envelope.id}-again` });
    const marker = ev('marker');
    await bus.publish(marker);
    await until(async () => (await effects()) === 3);
    await until(async () => deliveries.get('lost-ack') === 2);

    const rows = await db.prisma.task.findMany({ where: { tenantId: 'effects' }, select: { skill: true } });
    expect(rows.map((r) => r.skill).sort()).toEqual(['lost-ack', 'marker', 'plain']);
    expect(await db.prisma.inbox.count({ where: { consumer: 'exactly-once' } })).toBe(3);
    // Published rows are deleted together, shortly after (deleteDelayMs).
    await until(async () => (await db.prisma.outbox.count()) === 0);
  });

  it('publishes nothing from a rolled-back transaction, and sweeps rows another process committed and never published', async () => {
    const uow = new UnitOfWork(db.prisma, relay);
    const seen: string[] = [];
    consumer = await startConsumer(bus, { durable: 'notify', stream: 'events', accepts: ['task.started.v1'], async handle(e) { seen.push(e.envelope.data.taskId); } });
    const ev = (taskId: string) => makeEvent('task.started.v1', { taskId, startedAt: new Date().toISOString() }, { source: 'test', tenantId: 't', correlationId: taskId });
    await expect(
      uow.run(async ({ emit }) => {
        emit(ev('rolled-back'));
        throw new Error('business rule failed');
      }),
    ).rejects.toThrow('business rule failed');
    // Committed by a unit of work with no relay (as if its process died right after commit): the sweep of a relay
    // that polls finds it once it is older than graceMs.
    await new UnitOfWork(db.prisma).run(async ({ emit }) => emit(ev('left-behind')));
    const sweeper = new OutboxRelay(bus, { databaseUrl: db.databaseUrl, schema: db.schema, pollIntervalMs: 100, graceMs: 200, registry: new Registry() });
    await sweeper.start();
    try {
      await until(async () => seen.includes('left-behind'), 5_000);
      await until(async () => (await db.prisma.outbox.count()) === 0, 5_000);
    } finally {
      await sweeper.stop();
    }
    expect(seen).toEqual(['left-behind']);
  });
});
