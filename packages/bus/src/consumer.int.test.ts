import { makeEvent, type EventData } from '@steward/contracts';
import type { DeadLetter } from './consumer.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PermanentError } from './errors.js';
import { createTestBus } from './testing.js';
import type { RunningConsumer } from './consumer.js';
import { startConsumer } from './consumer.js';

type TestBus = Awaited<ReturnType<typeof createTestBus>>;
const ctx = { source: 'steward/test', tenantId: 't1', correlationId: 'c1' };
const started = (taskId: string): EventData<'task.started.v1'> => ({ taskId, startedAt: new Date().toISOString() });

/** Resolves when `n` items have been pushed into `list`. */
function waitFor<T>(list: T[], n: number, ms = 10_000): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = () => (list.length >= n ? resolve(list) : Date.now() - t0 > ms ? reject(new Error(`timed out with ${list.length}/${n}`)) : setTimeout(tick, 10));
    tick();
  });
}

async function readDeadLetters(bus: TestBus, n: number): Promise<DeadLetter[]> {
  const consumer = await bus.js.consumers.get(bus.streamName('deadLetters'));
  const out: DeadLetter[] = [];
  const msgs = await consumer.fetch({ max_messages: n, expires: 5000 });
  for await (const m of msgs) out.push(m.json<DeadLetter>());
  return out;
}

describe('consumer runner (real NATS JetStream)', () => {
  let bus: TestBus;
  let consumer: RunningConsumer | undefined;
  beforeEach(async () => {
    bus = await createTestBus();
  });
  afterEach(async () => {
    await consumer?.stop();
    await bus.destroy();
  });

  it('dead-letters a malformed message with its reason and goes on to the next one', async () => {
    const seen: string[] = [];
    consumer = await startConsumer(bus, { durable: 'dlq-test', stream: 'events', accepts: ['task.started.v1'], async handle(e) { seen.push(e.envelope.data.taskId); } });
    const good = makeEvent('task.started.v1', started('after-poison'), ctx);
    await bus.publishRaw({ subject: good.subject, payload: '{"this is": not json', msgId: 'poison-1' });
    await bus.publishRaw({ subject: good.subject, payload: JSON.stringify({ ...good.envelope, id: crypto.randomUUID(), data: { taskId: 42 } }), msgId: 'poison-2' });
    await bus.publish(good);
    await waitFor(seen, 1);
    expect(seen).toEqual(['after-poison']);
    const dl = await readDeadLetters(bus, 2);
    expect(dl.map((d) => d.reason)).toEqual(['not-json', 'bad-data']);
    expect(dl[0]!.payload).toBe('{"this is": not json');
    expect(dl[1]!.consumer).toBe('dlq-test');
    expect(JSON.stringify(dl[1]!.issues)).toContain('taskId');
    const metrics = await bus.metrics.deadLetters.get();
    expect(metrics.values.reduce((a, v) => a + v.value, 0)).toBe(2);
  });

  it('retries a transient failure with a delay, then succeeds; a permanent one is dead-lettered at once', async () => {
    const attempts = new Map<string, number[]>();
    consumer = await startConsumer(bus, {
      durable: 'retry-test',
      stream: 'events',
      accepts: ['task.started.v1'],
      retryDelayMs: () => 200,
      async handle(e, c) {
        const id = e.envelope.data.taskId;
        attempts.set(id, [...(attempts.get(id) ?? []), c.deliveryCount]);
        if (id === 'flaky' && c.deliveryCount < 3) throw new Error('database blinked');
        if (id === 'broken') throw new PermanentError('no-such-task', 'task does not exist');
      },
    });
    const t0 = Date.now();
    await bus.publish(makeEvent('task.started.v1', started('flaky'), ctx));
    await bus.publish(makeEvent('task.started.v1', started('broken'), ctx));
    const dl = await readDeadLetters(bus, 1);
    expect(dl[0]!.reason).toBe('permanent:no-such-task');
    const done = await new Promise<number[]>((resolve) => {
      const tick = () => ((attempts.get('flaky')?.length ?? 0) >= 3 ? resolve(attempts.get('flaky')!) : setTimeout(tick, 10));
      tick();
    });
    expect(done).toEqual([1, 2, 3]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400); // two nak delays of 200 ms were honoured
    expect(attempts.get('broken')).toEqual([1]);
  });

  it('gives up after maxDeliver and dead-letters with reason max-deliveries', async () => {
    let calls = 0;
    consumer = await startConsumer(bus, { durable: 'max-test', stream: 'events', accepts: ['task.started.v1'], maxDeliver: 3, retryDelayMs: () => 20, async handle() { calls++; throw new Error('always'); } });
    await bus.publish(makeEvent('task.started.v1', started('doomed'), ctx));
    const dl = await readDeadLetters(bus, 1);
    expect(dl[0]!.reason).toBe('max-deliveries');
    expect(dl[0]!.error).toBe('always');
    expect(calls).toBe(3);
  });

  it('bounds concurrency and drains in-flight handlers on stop', async () => {
    let running = 0;
    let peak = 0;
    const finished: string[] = [];
    consumer = await startConsumer(bus, {
      durable: 'conc-test',
      stream: 'events',
      accepts: ['task.started.v1'],
      concurrency: 3,
      async handle(e) {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 50));
        running--;
        finished.push(e.envelope.data.taskId);
      },
    });
    await Promise.all(Array.from({ length: 12 }, (_, i) => bus.publish(makeEvent('task.started.v1', started(`t${i}`), ctx))));
    await waitFor(finished, 4);
    await consumer.stop();
    consumer = undefined;
    expect(peak).toBeLessThanOrEqual(3); // the bound holds
    expect(peak).toBeGreaterThan(1); // and handlers did run side by side
    expect(running).toBe(0); // stop() waited for every handler it had started
  });

  it('does not deliver a duplicate publish twice (Nats-Msg-Id de-duplication)', async () => {
    const seen: string[] = [];
    consumer = await startConsumer(bus, { durable: 'dup-test', stream: 'events', accepts: ['task.started.v1'], async handle(e) { seen.push(e.envelope.id); } });
    const ev = makeEvent('task.started.v1', started('once'), ctx);
    await bus.publish(ev);
    await bus.publish(ev);
    await bus.publish(makeEvent('task.started.v1', started('marker'), ctx));
    await waitFor(seen, 2);
    expect(seen.filter((id) => id === ev.envelope.id)).toHaveLength(1);
  });

  it('hands waiting messages to handleBatch together, and falls back to one by one when a batch fails', async () => {
    const batches: string[][] = [];
    const single: string[] = [];
    const done: string[] = [];
    // Publish before the consumer starts, so the messages are waiting when it pulls.
    await Promise.all(Array.from({ length: 30 }, (_, i) => bus.publish(makeEvent('task.started.v1', started(i === 17 ? 'bad' : `b${i}`), ctx))));
    consumer = await startConsumer(bus, {
      durable: 'batch-test',
      stream: 'events',
      accepts: ['task.started.v1'],
      maxBatch: 10,
      concurrency: 1,
      async handleBatch(events) {
        const ids = events.map((e) => e.envelope.data.taskId);
        batches.push(ids);
        if (ids.includes('bad')) throw new Error('one bad apple');
        done.push(...ids);
      },
      async handle(e) {
        single.push(e.envelope.data.taskId);
        if (e.envelope.data.taskId === 'bad') throw new PermanentError('bad', 'refused');
        done.push(e.envelope.data.taskId);
      },
    });
    await waitFor(done, 29);
    expect(batches.some((b) => b.length > 1)).toBe(true);
    expect(Math.max(...batches.map((b) => b.length))).toBeLessThanOrEqual(10);
    const failed = batches.find((b) => b.includes('bad'))!;
    // The failed batch went one by one; any other single was a lone message, never part of a batch.
    for (const id of failed) expect(single).toContain(id);
    const batched = new Set(batches.flat());
    for (const id of single.filter((x) => !failed.includes(x))) expect(batched.has(id)).toBe(false);
    expect(new Set(done).size).toBe(29);
    expect((await readDeadLetters(bus, 1))[0]!.reason).toBe('permanent:bad');
  });

  it('never stalls when messages trickle in while every slot is busy (no lost wake-up between waiting dispatches)', async () => {
    // Regression: a dispatch that waited for a slot and then found the batch already taken used up a completion's
    // wake-up, so a later waiter (the pull loop's) could be left waiting with no handler left to wake it.
    const done: string[] = [];
    const gates: (() => void)[] = [];
    let hold = true;
    const gate = () => (hold ? new Promise<void>((r) => gates.push(r)) : Promise.resolve());
    const body = async (ids: string[]) => {
      await gate();
      await new Promise((r) => setTimeout(r, 1));
      done.push(...ids);
    };
    consumer = await startConsumer(bus, {
      durable: 'trickle-test',
      stream: 'events',
      accepts: ['task.started.v1'],
      concurrency: 2,
      maxBatch: 4,
      handleBatch: (events) => body(events.map((e) => e.envelope.data.taskId)),
      handle: (e) => body([e.envelope.data.taskId]),
    });
    const publish = (i: number) => bus.publish(makeEvent('task.started.v1', started(`m${i}`), ctx));
    // Fill both slots, then let messages arrive one by one while they are busy: each arrival queues a dispatch.
    for (let i = 0; i < 40; i++) {
      await publish(i);
      await new Promise((r) => setTimeout(r, 5));
    }
    hold = false;
    gates.splice(0).forEach((open) => open());
    await waitFor(done, 40);
    // The consumer still takes new work after the burst.
    for (let i = 40; i < 60; i++) await publish(i);
    await waitFor(done, 60);
    expect(new Set(done).size).toBe(60);
  });

  it('gives up on a handler that never settles: its message is redelivered and handled, and its slot is freed', async () => {
    const deliveries: number[] = [];
    const done: string[] = [];
    consumer = await startConsumer(bus, {
      durable: 'hung-test',
      stream: 'events',
      accepts: ['task.started.v1'],
      concurrency: 1,
      ackWaitMs: 2000, // longer than the give-up, so the message buffered behind the hung one is not redelivered
      handlerTimeoutMs: 600,
      retryDelayMs: () => 50,
      async handle(e, c) {
        if (e.envelope.data.taskId === 'hangs-once') {
          deliveries.push(c.deliveryCount);
          if (c.deliveryCount === 1) await new Promise(() => undefined); // never settles, beats go on
        }
        done.push(e.envelope.data.taskId);
      },
    });
    await bus.publish(makeEvent('task.started.v1', started('hangs-once'), ctx));
    await bus.publish(makeEvent('task.started.v1', started('behind-it'), ctx));
    await waitFor(done, 2);
    expect(deliveries).toEqual([1, 2]);
    expect(done.sort()).toEqual(['behind-it', 'hangs-once']);
    const timeouts = (await bus.metrics.processed.get()).values.filter((v) => v.labels.outcome === 'timeout' && v.labels.consumer === 'hung-test');
    expect(timeouts.reduce((a, v) => a + v.value, 0)).toBe(1);
  });

  it('keeps a long handler\'s message with heartbeats: no redelivery past the ack wait', async () => {
    const deliveries: number[] = [];
    consumer = await startConsumer(bus, {
      durable: 'heartbeat-test',
      stream: 'events',
      accepts: ['task.started.v1'],
      ackWaitMs: 600,
      async handle(_e, c) {
        deliveries.push(c.deliveryCount);
        await new Promise((r) => setTimeout(r, 2000)); // more than three ack waits
      },
    });
    await bus.publish(makeEvent('task.started.v1', started('long'), ctx));
    await waitFor(deliveries, 1);
    await new Promise((r) => setTimeout(r, 2300));
    expect(deliveries).toEqual([1]);
    const info = await bus.jsm.consumers.info(bus.streamName('events'), 'heartbeat-test');
    expect(info.num_redelivered).toBe(0);
    expect(info.num_ack_pending).toBe(0);
  });
});
