import { AckPolicy, DeliverPolicy, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { Span } from '@opentelemetry/api';
import {
  Catalogue,
  InvalidMessageError,
  decodeEvent,
  deadLetterSubject,
  type Envelope,
  type EventData,
  type EventKey,
  type StreamKey,
} from '@steward/contracts';
import { isNotFound, type Bus } from './bus.js';
import { isPermanent } from './errors.js';
import { silentLogger, type Logger } from './logger.js';
import { TraceScope, busTracer, endSpan, runInScope, startConsume, startConsumeBatch } from './tracing.js';

/** What a handler receives: the catalogue key and an envelope whose data passed its schema. */
export type HandlerEvent<K extends EventKey> = { [P in K]: { key: P; envelope: Envelope<EventData<P>> } }[K];

export interface HandlerContext {
  deliveryCount: number;
  streamSequence: number;
  /** Extends the ack deadline; called automatically every ackWait/3 while the handler runs. */
  heartbeat(): void;
}

export interface ConsumerSpec<K extends EventKey> {
  /** Durable consumer name, shared by every replica of the service. */
  durable: string;
  stream: StreamKey;
  accepts: readonly K[];
  /** Subject filter; defaults to the single accepted entry's filter (NATS 2.9 has one filter per consumer). */
  filter?: string;
  concurrency?: number;
  ackWaitMs?: number;
  /** Deliveries before a failing message is dead-lettered. */
  maxDeliver?: number;
  retryDelayMs?: (deliveryCount: number) => number;
  /** The handler must commit its effects before resolving: the message is acked right after. */
  handle(event: HandlerEvent<K>, ctx: HandlerContext): Promise<void>;
  /**
   * Optional: handles the messages already waiting, up to `maxBatch`, in one go (one transaction). If it throws,
   * each message of the batch goes through `handle` alone, so one bad message cannot hold back the others.
   */
  handleBatch?(events: HandlerEvent<K>[]): Promise<void>;
  maxBatch?: number;
  /**
   * A handler (or batch) still running after this long is given up on: its messages go back for redelivery (nak,
   * handlers are idempotent), its slot is freed and it counts as outcome `timeout`, so a handler that hangs (a lost
   * database reply, a promise that never settles) cannot hold its messages and slot for ever behind heartbeats.
   * 0 turns it off (skills bound their own time). Default: ten ack waits.
   */
  handlerTimeoutMs?: number;
}

/** A handler that ran past its consumer's handlerTimeoutMs. */
export class HandlerTimeoutError extends Error {
  constructor(consumer: string, ms: number) {
    super(`handler of ${consumer} still running after ${ms} ms: given up, its messages go back for redelivery`);
    this.name = 'HandlerTimeoutError';
  }
}

export interface DeadLetter {
  consumer: string;
  stream: string;
  streamSequence: number;
  deliveryCount: number;
  subject: string;
  reason: string;
  error: string;
  issues?: unknown;
  payload: string;
  deadLetteredAt: string;
}

// 250 ms doubling to a minute: with 20 deliveries a message rides out about 12 minutes of outage (database restart).
const defaultRetryDelay = (n: number): number => Math.min(250 * 2 ** (n - 1), 60_000);

/** A running durable pull consumer: parse at the door, bounded concurrency, ack after commit, dead letters. */
export class RunningConsumer {
  private messages: ConsumerMessages | undefined;
  private readonly inflight = new Set<Promise<void>>();
  /** Resolved (and replaced) whenever a slot frees or the batch is taken: every waiter re-checks its condition. */
  private changed = signal();
  private pumping = false;
  private stopping = false;
  private loop: Promise<void> | undefined;
  private readonly concurrency: number;
  private readonly ackWaitMs: number;
  private readonly maxDeliver: number;
  private readonly retryDelay: (n: number) => number;
  private readonly streamName: string;
  private readonly maxBatch: number;
  private readonly handlerTimeoutMs: number;
  private batch: JsMsg[] = [];
  private pumpScheduled = false;
  /** LOG_LEVEL=debug: a line per handled message or batch (with the scope's task, run, step and trace ids). */
  private readonly debug: boolean;

  constructor(
    private readonly bus: Bus,
    private readonly spec: ConsumerSpec<EventKey>,
    private readonly log: Logger = silentLogger,
  ) {
    this.concurrency = spec.concurrency ?? 16;
    this.ackWaitMs = spec.ackWaitMs ?? 30_000;
    this.maxDeliver = spec.maxDeliver ?? 20;
    this.retryDelay = spec.retryDelayMs ?? defaultRetryDelay;
    this.streamName = bus.streamName(spec.stream);
    this.maxBatch = spec.handleBatch ? (spec.maxBatch ?? 100) : 1;
    this.handlerTimeoutMs = spec.handlerTimeoutMs ?? 10 * this.ackWaitMs;
    this.debug = log.isLevelEnabled?.('debug') ?? false;
  }

  get durable(): string {
    return this.spec.durable;
  }

  /** Creates or updates the durable consumer (idempotent), then starts pulling. */
  async start(): Promise<void> {
    const filter = this.spec.filter ?? (this.spec.accepts.length === 1 ? Catalogue[this.spec.accepts[0]!].filter : undefined);
    if (!filter) throw new Error(`consumer ${this.spec.durable} accepts several types: give it a filter`);
    const config = {
      durable_name: this.spec.durable,
      filter_subject: this.bus.wireSubject(filter),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(this.ackWaitMs),
      // One more than ours so our own dead-lettering runs first; the server's limit only stops a crash loop.
      max_deliver: this.maxDeliver + 1,
      max_ack_pending: Math.max(1000, this.concurrency * 4),
    };
    try {
      await this.bus.jsm.consumers.info(this.streamName, this.spec.durable);
      const { durable_name: _name, deliver_policy: _fixed, ...mutable } = config;
      await this.bus.jsm.consumers.update(this.streamName, this.spec.durable, mutable);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await this.bus.jsm.consumers.add(this.streamName, config);
    }
    const consumer = await this.bus.js.consumers.get(this.streamName, this.spec.durable);
    this.bus.metrics.lagSources.set(this.spec.durable, async () => {
      const info = await consumer.info();
      return info.num_pending + info.num_ack_pending;
    });
    this.messages = await consumer.consume({ max_messages: Math.max(this.concurrency * 2, this.maxBatch * 2) });
    this.loop = this.pull(this.messages);
  }

  private async pull(messages: ConsumerMessages): Promise<void> {
    for await (const m of messages) {
      if (this.stopping) {
        m.nak(); // hand it straight to another replica instead of waiting out ack_wait
        continue;
      }
      this.batch.push(m);
      if (this.batch.length < this.maxBatch) {
        // A partial batch goes once the messages already buffered have been pulled in (before the next macrotask).
        this.schedulePump();
        continue;
      }
      // A full batch goes now, and the loop holds while it cannot (every slot busy): back-pressure.
      void this.pump();
      while (this.batch.length >= this.maxBatch) await this.changed.promise;
    }
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      void this.pump();
    });
  }

  /** Wakes everything waiting on a slot or on the batch; each waiter re-checks its own condition (no lost wake-up). */
  private notify(): void {
    const c = this.changed;
    this.changed = signal();
    c.resolve();
  }

  /**
   * The one dispatcher: hands the batch out in pieces of maxBatch as slots free. Only one runs at a time, so no
   * wake-up can be used up by a dispatcher that finds nothing left to do while another still waits.
   */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.batch.length > 0) {
        if (this.inflight.size >= this.concurrency) {
          await this.changed.promise;
          continue;
        }
        const msgs = this.batch.splice(0, this.maxBatch);
        const p = this.processBatch(msgs)
          .catch((err: unknown) => this.log.error({ err, consumer: this.spec.durable }, 'batch processing failed unexpectedly'))
          .finally(() => {
            this.inflight.delete(p);
            this.notify();
          });
        this.inflight.add(p);
        this.notify();
      }
    } finally {
      this.pumping = false;
    }
  }

  private async processBatch(msgs: JsMsg[]): Promise<void> {
    const decoded: { m: JsMsg; event: HandlerEvent<EventKey> }[] = [];
    await Promise.all(
      msgs.map(async (m) => {
        const event = await this.decode(m);
        if (event) decoded.push({ m, event });
      }),
    );
    if (decoded.length === 0) return;
    if (decoded.length === 1 || !this.spec.handleBatch) {
      await Promise.all(decoded.map(({ m, event }) => this.processOne(m, event)));
      return;
    }
    const { scope, spans } = startConsumeBatch(
      busTracer(),
      decoded.map((d) => d.event.envelope),
      this.spec.durable,
      (i) => ({ subject: this.bus.catalogueSubject(decoded[i]!.m.subject), deliveryCount: decoded[i]!.m.info.deliveryCount, headerTraceparent: headerTraceparent(decoded[i]!.m) }),
    );
    const started = performance.now();
    const beat = setInterval(() => decoded.forEach(({ m }) => m.working()), Math.max(100, Math.floor(this.ackWaitMs / 3)));
    try {
      await this.bounded(runInScope(scope, () => this.spec.handleBatch!(decoded.map((d) => d.event))));
    } catch (err) {
      spans?.forEach((s) => endSpan(s, 'retry', err));
      if (err instanceof HandlerTimeoutError) {
        // Not one by one: the hung batch may still hold what they would need. Redelivery retries them.
        runInScope(scope, () => this.log.error({ err, consumer: this.spec.durable, size: decoded.length }, 'batch timed out; its messages go back for redelivery'));
        for (const { m, event } of decoded) {
          m.nak(this.retryDelay(m.info.deliveryCount));
          this.bus.metrics.processed.inc({ consumer: this.spec.durable, type: event.envelope.type, outcome: 'timeout' });
        }
        return;
      }
      runInScope(scope, () => this.log.warn({ err, consumer: this.spec.durable, size: decoded.length }, 'batch failed; handling its messages one by one'));
      await Promise.all(decoded.map(({ m, event }) => this.processOne(m, event)));
      return;
    } finally {
      clearInterval(beat);
    }
    const seconds = (performance.now() - started) / 1000 / decoded.length;
    for (const { m, event } of decoded) {
      m.ack();
      this.bus.metrics.processed.inc({ consumer: this.spec.durable, type: event.envelope.type, outcome: 'ok' });
      this.bus.metrics.handlerSeconds.observe({ consumer: this.spec.durable, type: event.envelope.type }, seconds);
    }
    spans?.forEach((s) => endSpan(s, 'ok'));
    if (this.debug) runInScope(scope, () => this.log.debug({ consumer: this.spec.durable, size: decoded.length, ms: Math.round(seconds * 1000 * decoded.length) }, 'handled a batch'));
  }

  /** The handler's promise, or a HandlerTimeoutError once handlerTimeoutMs has passed (the handler is abandoned). */
  private bounded<T>(p: Promise<T>): Promise<T> {
    if (this.handlerTimeoutMs <= 0) return p;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new HandlerTimeoutError(this.spec.durable, this.handlerTimeoutMs)), this.handlerTimeoutMs);
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }

  /** Parses at the door; a message that fails is dead-lettered and undefined is returned. */
  private async decode(m: JsMsg): Promise<HandlerEvent<EventKey> | undefined> {
    const raw = m.string();
    try {
      const decoded = decodeEvent(this.bus.catalogueSubject(m.subject), raw);
      const key = decoded.entry.type.slice('steward.'.length) as EventKey;
      if (!this.spec.accepts.includes(key)) {
        throw new InvalidMessageError('unknown-type', `consumer ${this.spec.durable} does not accept ${decoded.entry.type}`);
      }
      return { key, envelope: decoded.envelope } as HandlerEvent<EventKey>;
    } catch (err) {
      const e = err as InvalidMessageError;
      await this.deadLetter(m, raw, e.reason ?? 'invalid', e.message, e.issues);
      return undefined;
    }
  }

  /** Handles one message in its scope (log ids, trace context; a consumer span when tracing is on). */
  private processOne(m: JsMsg, event: HandlerEvent<EventKey>): Promise<void> {
    const t = busTracer();
    const scope =
      t === undefined
        ? TraceScope.message(event.envelope, event.envelope.traceparent)
        : startConsume(t, event.envelope, this.bus.catalogueSubject(m.subject), this.spec.durable, m.info.deliveryCount, headerTraceparent(m));
    return runInScope(scope, () => this.handleOne(m, event, scope.span));
  }

  private async handleOne(m: JsMsg, event: HandlerEvent<EventKey>, span: Span | undefined): Promise<void> {
    const consumer = this.spec.durable;
    const type = event.envelope.type;
    const started = performance.now();
    const beat = setInterval(() => m.working(), Math.max(100, Math.floor(this.ackWaitMs / 3)));
    try {
      await this.bounded(this.spec.handle(event, { deliveryCount: m.info.deliveryCount, streamSequence: m.seq, heartbeat: () => m.working() }));
      m.ack();
      this.bus.metrics.processed.inc({ consumer, type, outcome: 'ok' });
      endSpan(span, 'ok');
      if (this.debug) this.log.debug({ consumer, type, ms: Math.round(performance.now() - started) }, 'handled');
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (isPermanent(err) || m.info.deliveryCount >= this.maxDeliver) {
        this.log.error({ err, consumer, type, seq: m.seq, deliveryCount: m.info.deliveryCount }, 'handler failed for good; dead-lettering');
        await this.deadLetter(m, m.string(), isPermanent(err) ? `permanent:${err.code}` : 'max-deliveries', message);
        endSpan(span, 'dead_letter', err);
      } else {
        const delay = this.retryDelay(m.info.deliveryCount);
        this.log.warn({ err, consumer, type, seq: m.seq, deliveryCount: m.info.deliveryCount, retryInMs: delay }, 'handler failed; will retry');
        m.nak(delay);
        this.bus.metrics.processed.inc({ consumer, type, outcome: err instanceof HandlerTimeoutError ? 'timeout' : 'retry' });
        endSpan(span, 'retry', err);
      }
    } finally {
      clearInterval(beat);
      this.bus.metrics.handlerSeconds.observe({ consumer, type }, (performance.now() - started) / 1000);
    }
  }

  /** Copies the message with its reason to the dead-letter stream, then terminates it; if that publish fails, retries later. */
  private async deadLetter(m: JsMsg, payload: string, reason: string, error: string, issues?: unknown): Promise<void> {
    const record: DeadLetter = {
      consumer: this.spec.durable,
      stream: this.streamName,
      streamSequence: m.seq,
      deliveryCount: m.info.deliveryCount,
      subject: m.subject,
      reason,
      error,
      issues,
      payload,
      deadLetteredAt: new Date().toISOString(),
    };
    try {
      await this.bus.publishRaw({ subject: deadLetterSubject(this.spec.durable), payload: JSON.stringify(record), msgId: `dlq:${this.spec.durable}:${m.seq}` });
    } catch (err) {
      this.log.error({ err, consumer: this.spec.durable, seq: m.seq }, 'dead-letter publish failed; message will be redelivered');
      m.nak(this.retryDelay(m.info.deliveryCount));
      return;
    }
    m.term();
    this.bus.metrics.deadLetters.inc({ consumer: this.spec.durable, reason: reason.split(':')[0] ?? reason });
    this.bus.metrics.processed.inc({ consumer: this.spec.durable, type: 'unknown', outcome: 'dead_letter' });
    this.log.warn({ consumer: this.spec.durable, seq: m.seq, subject: m.subject, reason, error }, 'message dead-lettered');
  }

  /** Graceful drain: stop pulling, let in-flight handlers finish and ack. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.bus.metrics.lagSources.delete(this.spec.durable);
    // What is buffered but not started goes back at once (another replica takes it); the pull loop is released.
    for (const m of this.batch.splice(0)) m.nak();
    this.notify();
    await this.messages?.close();
    await this.loop;
    for (const m of this.batch.splice(0)) m.nak();
    await Promise.allSettled([...this.inflight]);
  }
}

/** A promise with its resolve, for broadcast wake-ups. */
function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** The message's `traceparent` header (NATS gives '' for a missing header). */
function headerTraceparent(m: JsMsg): string | undefined {
  const v = m.headers?.get('traceparent');
  return v ? v : undefined;
}

export async function startConsumer<K extends EventKey>(bus: Bus, spec: ConsumerSpec<K>, log?: Logger): Promise<RunningConsumer> {
  const c = new RunningConsumer(bus, spec, log);
  await c.start();
  return c;
}
