import { Catalogue, decodeEvent, type SkillInvocationCancelV1 } from '@steward/contracts';
import { silentLogger, type Bus, type Logger } from '@steward/bus';

/** What executeInvocation needs to know about cancellations (the listener below, or a stand-in in tests). */
export interface CancellationSource {
  /** The reason this invocation (this attempt of it, when given) was cancelled, or undefined if it was not (or is no longer remembered). */
  reasonFor(tenantId: string, invocationId: string, attempt?: number): string | undefined;
  /** Calls `fn` once when the invocation (this attempt) is cancelled (at once if it already is); returns a function that stops listening. */
  onCancel(tenantId: string, invocationId: string, fn: (reason: string) => void, attempt?: number): () => void;
}

export interface CancellationOptions {
  /** On start, cancels published this long ago are read too: one published just before its invocation arrived still counts. */
  lookbackMs?: number;
  /** How long a cancelled invocation id is remembered. */
  ttlMs?: number;
  /** At most this many ids are remembered; the oldest are forgotten first. */
  maxEntries?: number;
  /** start() waits at most this long to read the lookback before it gives up waiting (the reading goes on). */
  catchUpTimeoutMs?: number;
  /** The server sends a heartbeat this often when idle; two missed ones make the listener re-create its consumer. */
  idleHeartbeatMs?: number;
  log?: Logger;
}

const MINUTE = 60_000;

/** Whether a cancel that stops attempts up to `upTo` (every attempt when undefined) stops `attempt` (unknown: yes). */
const stops = (upTo: number | undefined, attempt: number | undefined): boolean => upTo === undefined || attempt === undefined || attempt <= upTo;

/** Cancelled invocation ids with their reasons and the last attempt they stop: bounded by count and age, oldest first. */
export class CancelledSet {
  // A Map iterates in insertion order; re-inserting on every write keeps it ordered by `at`.
  private readonly entries = new Map<string, { reason: string; at: number; upTo: number | undefined }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** Records a cancel of attempts up to `upTo` (every attempt when undefined); a wider earlier cancel stays as wide. */
  add(key: string, reason: string, upTo?: number): void {
    const now = this.now();
    const before = this.entries.get(key);
    const widest = before && (before.upTo === undefined || upTo === undefined) ? undefined : Math.max(before?.upTo ?? 0, upTo ?? 0);
    this.entries.delete(key);
    this.entries.set(key, { reason, at: now, upTo: before ? widest : upTo });
    for (const [k, e] of this.entries) {
      if (this.entries.size <= this.maxEntries && now - e.at <= this.ttlMs) break;
      this.entries.delete(k);
    }
  }

  get(key: string, attempt?: number): string | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (this.now() - e.at > this.ttlMs) {
      this.entries.delete(key);
      return undefined;
    }
    return stops(e.upTo, attempt) ? e.reason : undefined;
  }
}

type OrderedConsumer = Awaited<ReturnType<Bus['js']['consumers']['get']>>;
type Messages = Awaited<ReturnType<OrderedConsumer['consume']>>;

const keyOf = (tenantId: string, invocationId: string): string => `${tenantId}\u0000${invocationId}`;

/**
 * Hears every skill.invocation.cancel on the events stream. Every replica must hear every cancel, so this is not a
 * shared durable but an ordered (ephemeral, ack-less, self-healing) consumer per process, which starts a short
 * lookback before now.
 */
export class Cancellations implements CancellationSource {
  private readonly cancelled: CancelledSet;
  private readonly listeners = new Map<string, Set<{ attempt: number | undefined; fn: (reason: string) => void }>>();
  private readonly log: Logger;
  private consumer: OrderedConsumer | undefined;
  private messages: Messages | undefined;
  private loop: Promise<void> | undefined;
  private caughtUp: (() => void) | undefined;

  private constructor(
    private readonly bus: Bus,
    private readonly opts: CancellationOptions,
  ) {
    this.cancelled = new CancelledSet(opts.ttlMs ?? 15 * MINUTE, opts.maxEntries ?? 100_000);
    this.log = opts.log ?? silentLogger;
  }

  /** Starts listening and returns once the lookback is read (or catchUpTimeoutMs passed). */
  static async start(bus: Bus, opts: CancellationOptions = {}): Promise<Cancellations> {
    const c = new Cancellations(bus, opts);
    await c.listen();
    return c;
  }

  reasonFor(tenantId: string, invocationId: string, attempt?: number): string | undefined {
    return this.cancelled.get(keyOf(tenantId, invocationId), attempt);
  }

  onCancel(tenantId: string, invocationId: string, fn: (reason: string) => void, attempt?: number): () => void {
    const key = keyOf(tenantId, invocationId);
    const reason = this.cancelled.get(key, attempt);
    if (reason !== undefined) {
      fn(reason);
      return () => {};
    }
    const set = this.listeners.get(key) ?? new Set();
    const listener = { attempt, fn };
    set.add(listener);
    this.listeners.set(key, set);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(key) === set) this.listeners.delete(key);
    };
  }

  async stop(): Promise<void> {
    this.caughtUp?.();
    await this.messages?.close();
    await this.loop;
    // Closing does not remove an ordered consumer from the server (it would linger until inactive): delete it.
    await this.consumer?.delete().catch(() => false);
    this.listeners.clear();
  }

  private async listen(): Promise<void> {
    const { bus } = this;
    const stream = bus.streamName('events');
    const filter = bus.wireSubject(Catalogue['skill.invocation.cancel.v1'].filter);
    const since = new Date(Date.now() - (this.opts.lookbackMs ?? 10 * MINUTE)).toISOString();
    // The client's ordered consumer re-creates itself after a reset with `by_start_sequence` but keeps a given
    // `opt_start_time`, which the server refuses, so it would never recover. Resolve the start time to a sequence
    // with a throwaway consumer and start the ordered one from that sequence instead.
    const probe = await bus.jsm.consumers.add(stream, {
      deliver_policy: 'by_start_time',
      opt_start_time: since,
      ack_policy: 'none',
      filter_subject: filter,
      mem_storage: true,
      num_replicas: 1,
      inactive_threshold: 10_000 * 1_000_000,
    });
    await bus.jsm.consumers.delete(stream, probe.name).catch(() => false);
    const consumer = await bus.js.consumers.get(stream, { filter_subjects: filter, opt_start_seq: probe.delivered.stream_seq + 1 });
    this.consumer = consumer;
    const backlog = (await consumer.info(true)).num_pending;
    const caughtUp = backlog === 0 ? Promise.resolve() : new Promise<void>((resolve) => (this.caughtUp = resolve));
    const idle = this.opts.idleHeartbeatMs ?? 5_000;
    this.messages = await consumer.consume({ idle_heartbeat: idle, expires: Math.max(1_000, idle * 2) });
    this.loop = this.pull(this.messages);
    const timeoutMs = this.opts.catchUpTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const done = await Promise.race([caughtUp, timedOut]).finally(() => clearTimeout(timer));
    if (done === 'timeout') this.log.warn({ backlog, timeoutMs }, 'cancellation lookback not read in time; going on while it is read');
    this.log.info({ backlog, since }, 'listening for skill invocation cancels');
  }

  private async pull(messages: Messages): Promise<void> {
    try {
      for await (const m of messages) {
        this.receive(m.subject, m.string());
        if (m.info.pending === 0) {
          this.caughtUp?.();
          this.caughtUp = undefined;
        }
      }
    } catch (err) {
      this.log.error({ err }, 'cancellation listener stopped; running invocations can no longer be cancelled');
    }
  }

  private receive(subject: string, raw: string): void {
    let data: SkillInvocationCancelV1;
    try {
      const { entry, envelope } = decodeEvent(this.bus.catalogueSubject(subject), raw);
      if (entry.type !== Catalogue['skill.invocation.cancel.v1'].type) throw new Error(`unexpected ${entry.type} on the cancel subject`);
      data = envelope.data as SkillInvocationCancelV1;
    } catch (err) {
      this.log.warn({ err, subject }, 'ignoring an invalid cancel message');
      return;
    }
    const key = keyOf(data.tenantId, data.invocationId);
    this.cancelled.add(key, data.reason, data.attempt);
    const listeners = this.listeners.get(key);
    if (!listeners) return;
    const hit = [...listeners].filter((l) => stops(data.attempt, l.attempt));
    for (const l of hit) listeners.delete(l);
    if (listeners.size === 0) this.listeners.delete(key);
    if (hit.length > 0) this.log.info({ invocationId: data.invocationId, attempt: data.attempt, reason: data.reason }, 'cancelling a running invocation');
    for (const { fn } of hit) {
      try {
        fn(data.reason);
      } catch (err) {
        this.log.error({ err, invocationId: data.invocationId }, 'cancel listener failed');
      }
    }
  }
}
