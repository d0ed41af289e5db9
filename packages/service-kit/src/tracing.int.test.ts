// Trace context through the bus (real NATS JetStream) and log ids inside handlers, with tracing off, then on.
import { ROOT_CONTEXT, SpanKind, context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { TraceScope, busTracer, createTestBus, currentScope, formatTraceparent, parseTraceparent, runInScope, startConsumer, type RunningConsumer } from '@steward/bus';
import { makeEvent, type Envelope, type OutgoingEvent } from '@steward/contracts';
import fastify from 'fastify';
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TracingConfig, loadConfig } from './config.js';
import { traceRequests } from './http-tracing.js';
import { createLogger } from './logger.js';
import { TimerLoop } from './timer-loop.js';
import { initTracing, type Tracing } from './tracing.js';

type TestBus = Awaited<ReturnType<typeof createTestBus>>;
type Line = Record<string, unknown>;

/** A logger whose lines land in `lines`, parsed. */
function capturingLogger(): { log: ReturnType<typeof createLogger>; lines: Line[] } {
  const lines: Line[] = [];
  const log = createLogger('test', 'info', { write: (s: string) => void lines.push(JSON.parse(s) as Line) });
  return { log, lines };
}

async function until<T>(what: string, probe: () => T | undefined, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const meta = (taskId: string) => ({ source: 'steward/test', tenantId: 't1', correlationId: taskId, subject: taskId });
const started = (taskId: string, traceparent?: string): OutgoingEvent<'task.started.v1'> =>
  makeEvent('task.started.v1', { taskId, startedAt: new Date().toISOString() }, { ...meta(taskId), ...(traceparent ? { traceparent } : {}) });
const randomTraceparent = () => `00-${randomUUID().replace(/-/g, '')}-${randomUUID().replace(/-/g, '').slice(0, 16)}-01`;

/** The traceparent NATS header of the message at `seq` in the events stream. */
async function headerAt(bus: TestBus, seq: number): Promise<string | undefined> {
  const m = await bus.jsm.streams.getMessage(bus.streamName('events'), { seq });
  return m?.header.get('traceparent') || undefined;
}

describe('log ids and trace context with tracing off (no provider)', () => {
  let bus: TestBus;
  let consumer: RunningConsumer | undefined;
  beforeAll(async () => {
    bus = await createTestBus('tracing-off');
  });
  afterEach(async () => {
    await consumer?.stop();
    consumer = undefined;
  });
  afterAll(async () => {
    await bus.destroy();
  });

  it('is off without an endpoint: initTracing registers nothing and the bus has no tracer', async () => {
    expect(await initTracing({ service: 'test', config: loadConfig(TracingConfig, {}) })).toBeUndefined();
    expect(await initTracing({ service: 'test', config: loadConfig(TracingConfig, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' }) })).toBeUndefined();
    expect(busTracer()).toBeUndefined();
    expect(trace.getTracerProvider().getTracer('x').startSpan('s').isRecording()).toBe(false);
  });

  it('log lines inside a handler carry the task and the incoming trace id; events made there pass the traceparent on', async () => {
    const { log, lines } = capturingLogger();
    const made: Envelope[] = [];
    consumer = await startConsumer(bus, {
      durable: 'off-handler',
      stream: 'events',
      accepts: ['task.started.v1'],
      async handle(e) {
        await new Promise((r) => setTimeout(r, 5)); // the scope survives awaits
        log.info({ step: 'inside' }, 'handling');
        made.push(makeEvent('task.completed.v1', { taskId: e.envelope.data.taskId, output: null, completedAt: new Date().toISOString() }, meta(e.envelope.data.taskId)).envelope);
      },
    });
    const tp = randomTraceparent();
    const taskId = randomUUID();
    await bus.publish(started(taskId, tp));
    await until('the handler', () => made[0]);
    const line = lines.find((l) => l.msg === 'handling')!;
    expect(line).toMatchObject({ taskId, traceId: tp.slice(3, 35), spanId: tp.slice(36, 52), step: 'inside', service: 'test' });
    expect(made[0]!.traceparent).toBe(tp);
    log.info('outside');
    expect(lines.at(-1)).not.toHaveProperty('taskId');
    expect(lines.at(-1)).not.toHaveProperty('traceId');
  });

  it('a timer loop woken from a handler sweeps outside its scope (no borrowed ids or trace context)', async () => {
    const { log, lines } = capturingLogger();
    const tp = randomTraceparent();
    const swept: Envelope[] = [];
    const loop = new TimerLoop(
      async () => {
        log.info('sweeping');
        swept.push(started(randomUUID()).envelope);
        return 0;
      },
      60_000,
      () => undefined,
    );
    const envelope = started(randomUUID(), tp).envelope;
    runInScope(TraceScope.message(envelope, tp), () => {
      expect(currentScope()).toBeDefined();
      loop.wakeAt(new Date());
    });
    await until('the sweep', () => swept[0]);
    loop.stop();
    expect(swept[0]).not.toHaveProperty('traceparent');
    expect(lines.find((l) => l.msg === 'sweeping')).not.toHaveProperty('traceId');
  });

  it('without a traceparent anywhere, events stay without one and lines carry the task only', async () => {
    const { log, lines } = capturingLogger();
    const made: Envelope[] = [];
    const taskId = randomUUID();
    consumer = await startConsumer(bus, {
      durable: 'off-no-trace',
      stream: 'events',
      accepts: ['task.started.v1'],
      async handle(e) {
        if (e.envelope.data.taskId !== taskId) return; // the stream also holds the previous test's event
        log.info('handling');
        made.push(makeEvent('task.completed.v1', { taskId: e.envelope.data.taskId, output: null, completedAt: new Date().toISOString() }, meta(e.envelope.data.taskId)).envelope);
      },
    });
    await bus.publish(started(taskId));
    await until('the handler', () => made[0]);
    expect(made[0]).not.toHaveProperty('traceparent');
    expect(lines.find((l) => l.msg === 'handling')).toMatchObject({ taskId });
    expect(lines.find((l) => l.msg === 'handling')).not.toHaveProperty('traceId');
  });
});

describe('tracing on (in-memory exporter)', () => {
  let bus: TestBus;
  let tracing: Tracing;
  let exporter: InMemorySpanExporter;
  let consumer: RunningConsumer | undefined;
  beforeAll(async () => {
    exporter = new InMemorySpanExporter();
    tracing = (await initTracing({ service: 'test', config: loadConfig(TracingConfig, {}), exporter, simple: true }))!;
    bus = await createTestBus('tracing-on');
  });
  afterEach(async () => {
    await consumer?.stop();
    consumer = undefined;
    exporter.reset();
  });
  afterAll(async () => {
    await bus.destroy();
    await tracing.shutdown();
    expect(busTracer()).toBeUndefined();
  });

  const spans = () => exporter.getFinishedSpans();
  const byKind = (kind: SpanKind, traceId: string): ReadableSpan[] => spans().filter((s) => s.kind === kind && s.spanContext().traceId === traceId);

  it('publish inside a span, consume: the consumer span is its child in the same trace; envelope and header carry the same traceparent', async () => {
    const { log, lines } = capturingLogger();
    const handled: { envelope: Envelope; seq: number; active: string | undefined; made: Envelope }[] = [];
    consumer = await startConsumer(bus, {
      durable: 'on-handler',
      stream: 'events',
      accepts: ['task.started.v1'],
      async handle(e, ctx) {
        log.info('handling');
        const made = makeEvent('task.completed.v1', { taskId: e.envelope.data.taskId, output: null, completedAt: new Date().toISOString() }, meta(e.envelope.data.taskId)).envelope;
        handled.push({ envelope: e.envelope, seq: ctx.streamSequence, active: trace.getActiveSpan()?.spanContext().spanId, made });
      },
    });
    const tracer = trace.getTracer('test');
    const taskId = randomUUID();
    const root = tracer.startSpan('request', {}, ROOT_CONTEXT);
    const event = context.with(trace.setSpan(ROOT_CONTEXT, root), () => started(taskId));
    await context.with(trace.setSpan(ROOT_CONTEXT, root), () => bus.publish(event));
    root.end();
    const h = await until('the handler', () => handled[0]);
    const { traceId, spanId: rootSpanId } = root.spanContext();

    // The envelope carries the context it was made in; the NATS header is the same value.
    expect(h.envelope.traceparent).toBe(`00-${traceId}-${rootSpanId}-01`);
    expect(await headerAt(bus, h.seq)).toBe(h.envelope.traceparent);

    const consumerSpan = await until('the consumer span', () => byKind(SpanKind.CONSUMER, traceId)[0]);
    expect(consumerSpan.name).toBe('process steward.evt.task.started.v1');
    expect(consumerSpan.parentSpanContext?.spanId).toBe(rootSpanId);
    expect(consumerSpan.attributes).toMatchObject({ 'messaging.system': 'nats', 'messaging.consumer.group.name': 'on-handler', 'steward.task_id': taskId, 'messaging.message.id': h.envelope.id });
    // The handler ran in the consumer span; what it made carries that span; its log line the ids.
    expect(h.active).toBe(consumerSpan.spanContext().spanId);
    expect(h.made.traceparent).toBe(formatTraceparent(consumerSpan.spanContext()));
    expect(lines.find((l) => l.msg === 'handling')).toMatchObject({ taskId, traceId, spanId: consumerSpan.spanContext().spanId });

    const producer = byKind(SpanKind.PRODUCER, traceId);
    expect(producer).toHaveLength(1);
    expect(producer[0]!.name).toBe('publish steward.evt.task.started.v1');
    expect(producer[0]!.parentSpanContext?.spanId).toBe(rootSpanId);
    expect(producer[0]!.attributes['messaging.message.id']).toBe(event.envelope.id);
  });

  it('a message from outside (traceparent in the header only) continues its trace; one without starts a new trace', async () => {
    const handled: Envelope[] = [];
    consumer = await startConsumer(bus, { durable: 'on-foreign', stream: 'events', accepts: ['task.started.v1'], async handle(e) { handled.push(e.envelope); } });
    const tp = randomTraceparent();
    const a = started(randomUUID());
    await bus.publishRaw({ subject: a.subject, payload: JSON.stringify(a.envelope), msgId: a.envelope.id, headers: { traceparent: tp } });
    const b = started(randomUUID());
    await bus.publish(b);
    await until('both', () => (handled.some((e) => e.id === b.envelope.id) && handled.some((e) => e.id === a.envelope.id) ? true : undefined));
    const parent = parseTraceparent(tp)!;
    const ca = await until('span a', () => byKind(SpanKind.CONSUMER, parent.traceId)[0]);
    expect(ca.parentSpanContext?.spanId).toBe(parent.spanId);
    const cb = await until('span b', () => spans().find((s) => s.kind === SpanKind.CONSUMER && s.attributes['messaging.message.id'] === b.envelope.id));
    expect(cb.parentSpanContext).toBeUndefined();
    expect(cb.spanContext().traceId).not.toBe(parent.traceId);
    // No span context anywhere at publish time: no producer span for b.
    expect(spans().filter((s) => s.kind === SpanKind.PRODUCER && s.attributes['messaging.message.id'] === b.envelope.id)).toHaveLength(0);
  });

  it('a batch handled in one go: each message gets its consumer span, and each event made takes the span of its own task', async () => {
    const { log, lines } = capturingLogger();
    const tasks = [randomUUID(), randomUUID(), randomUUID()];
    const tps = tasks.map(() => randomTraceparent());
    // Published before the consumer starts, so they arrive together.
    for (const [i, t] of tasks.entries()) await bus.publish(started(t, tps[i]));
    const made: Envelope[] = [];
    const batches: number[] = [];
    consumer = await startConsumer(bus, {
      durable: 'on-batch',
      stream: 'events',
      accepts: ['task.started.v1'],
      maxBatch: 10,
      async handleBatch(events) {
        batches.push(events.length);
        log.info('batch');
        // Like the workflow-runner: every event made in the batch names the batch's first event as its cause.
        for (const e of events) made.push(makeEvent('task.completed.v1', { taskId: e.envelope.data.taskId, output: null, completedAt: new Date().toISOString() }, { ...meta(e.envelope.data.taskId), causationId: events[0]!.envelope.id }).envelope);
      },
      async handle() {
        throw new Error('not expected: the batch should not fail');
      },
    });
    await until('an event made for each task', () => (tasks.every((t) => made.some((m) => m.correlationid === t)) ? true : undefined));
    expect(batches[0]).toBeGreaterThan(1);
    for (const [i, t] of tasks.entries()) {
      const parent = parseTraceparent(tps[i])!;
      const span = await until(`consumer span of ${t}`, () => byKind(SpanKind.CONSUMER, parent.traceId)[0]);
      expect(span.parentSpanContext?.spanId).toBe(parent.spanId);
      const e = made.find((m) => m.correlationid === t)!;
      expect(e.traceparent).toBe(formatTraceparent(span.spanContext()));
    }
    expect(lines.find((l) => l.msg === 'batch')).toMatchObject({ batchSize: batches[0] });
  });

  it('HTTP: a server span per request, child of the caller; the handler logs its trace id and makes events in its span; probes are not traced', async () => {
    const { log, lines } = capturingLogger();
    const app = fastify();
    traceRequests(app);
    let made: Envelope | undefined;
    app.post('/v1/things/:id', async (req) => {
      await new Promise((r) => setTimeout(r, 2));
      log.info('in handler');
      made = makeEvent('task.started.v1', { taskId: (req.params as { id: string }).id, startedAt: new Date().toISOString() }, meta('x')).envelope;
      return { ok: true, body: req.body };
    });
    app.get('/healthz', async () => ({ status: 'ok' }));
    await app.ready();
    const tp = randomTraceparent();
    const parent = parseTraceparent(tp)!;
    const r = await app.inject({ method: 'POST', url: '/v1/things/abc?x=1', headers: { traceparent: tp, 'content-type': 'application/json' }, payload: { a: 1 } });
    expect(r.statusCode).toBe(200);
    await app.inject({ method: 'GET', url: '/healthz' });
    await app.close();
    const server = spans().filter((s) => s.kind === SpanKind.SERVER);
    expect(server).toHaveLength(1);
    expect(server[0]!.name).toBe('POST /v1/things/:id');
    expect(server[0]!.spanContext().traceId).toBe(parent.traceId);
    expect(server[0]!.parentSpanContext?.spanId).toBe(parent.spanId);
    expect(server[0]!.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.route': '/v1/things/:id', 'url.path': '/v1/things/abc', 'http.response.status_code': 200 });
    expect(made?.traceparent).toBe(formatTraceparent(server[0]!.spanContext()));
    expect(lines.find((l) => l.msg === 'in handler')).toMatchObject({ traceId: parent.traceId, spanId: server[0]!.spanContext().spanId });
  });
});
