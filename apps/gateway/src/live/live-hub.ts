import type { Bus, Logger } from '@steward/bus';
import { parseEnvelope, typeSelected, type LoggedEvent, type StreamConsumer } from '../audit/event-log.js';

/** Events of the escalation live stream: new batches and what happens to decisions. */
export const ESCALATION_EVENTS = ['escalation.batch.ready', 'decision.escalated', 'decision.resolved', 'decision.withdrawn', 'decision.reviewed'] as const;
/** The events that end a task (and its live stream). */
export const FINAL_TASK_EVENTS = ['task.completed', 'task.failed', 'task.cancelled'] as const;

export const taskKey = (tenantId: string, taskId: string): string => `task\u0000${tenantId}\u0000${taskId}`;
export const escalationKey = (tenantId: string): string => `esc\u0000${tenantId}`;

/** A connected client as the hub sees it. */
export interface LiveListener {
  /** `taskKey(…)` or `escalationKey(…)`. */
  readonly key: string;
  /** Called in stream order for every event of its key stored after the sequence `attach` returned. Must not throw. */
  deliver(e: LoggedEvent): void;
  /** The shared subscription ended (NATS gone, stream deleted): the client must reconnect, with Last-Event-ID. */
  broken(): void;
}

type Messages = Awaited<ReturnType<StreamConsumer['consume']>>;

/**
 * One live subscription to the event stream per gateway process, fanned out to the connected clients by tenant and
 * task (or tenant, for escalations). It runs only while somebody listens (and `idleStopMs` after), so idle costs no
 * NATS consumer, and a thousand clients cost one. It reads with an ordered consumer starting right after the stream's
 * last sequence, so `attach` can tell a client exactly from which sequence on it will hear everything.
 */
export class LiveHub {
  private readonly listeners = new Map<string, Set<LiveListener>>();
  private size = 0;
  private lastSeq = 0;
  private live = false;
  private generation = 0;
  private starting: Promise<void> | undefined;
  private messages: Messages | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly decoder = new TextDecoder();

  constructor(
    private readonly bus: Bus,
    private readonly log: Logger,
    private readonly idleStopMs: number,
  ) {}

  /** The last sequence handed to listeners (or the stream's end when the hub started). */
  get position(): number {
    return this.lastSeq;
  }

  get listenerCount(): number {
    return this.size;
  }

  /**
   * Adds a listener. Resolves with the hub's position at that moment: the listener hears every event after it, so a
   * replay that covers everything up to it leaves no gap.
   */
  async attach(l: LiveListener): Promise<number> {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    while (!this.live) {
      this.starting ??= this.start().finally(() => {
        this.starting = undefined;
      });
      await this.starting;
    }
    let set = this.listeners.get(l.key);
    if (!set) this.listeners.set(l.key, (set = new Set()));
    if (!set.has(l)) {
      set.add(l);
      this.size++;
    }
    return this.lastSeq;
  }

  detach(l: LiveListener): void {
    const set = this.listeners.get(l.key);
    if (!set?.delete(l)) return;
    this.size--;
    if (set.size === 0) this.listeners.delete(l.key);
    if (this.size === 0 && this.live && this.idleTimer === undefined) {
      this.idleTimer = setTimeout(() => {
        this.idleTimer = undefined;
        if (this.size === 0) this.stop();
      }, this.idleStopMs);
      this.idleTimer.unref();
    }
  }

  /** Stops the subscription (the listeners are told by their owners, not here). */
  stop(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (!this.live) return;
    this.live = false;
    this.generation++;
    void this.messages?.close();
    this.messages = undefined;
  }

  private async start(): Promise<void> {
    const stream = this.bus.streamName('events');
    const last = (await this.bus.jsm.streams.info(stream)).state.last_seq;
    const consumer = await this.bus.js.consumers.get(stream, { opt_start_seq: last + 1 });
    const messages = await consumer.consume({ max_messages: 1000 });
    this.lastSeq = last;
    this.messages = messages;
    this.live = true;
    const gen = ++this.generation;
    this.log.debug({ from: last + 1 }, 'live subscription started');
    void this.run(messages, consumer, gen);
  }

  private async run(messages: Messages, consumer: StreamConsumer, gen: number): Promise<void> {
    try {
      for await (const m of messages) {
        if (gen !== this.generation) break;
        this.lastSeq = m.seq;
        if (this.size > 0) this.dispatch(m.seq, this.decoder.decode(m.data));
      }
    } catch (err) {
      this.log.warn({ err }, 'live subscription failed');
    } finally {
      await consumer.delete().catch(() => false);
      if (gen === this.generation) {
        // It ended by itself: every client has to reconnect (and resumes with its Last-Event-ID).
        this.live = false;
        this.generation++;
        const all = [...this.listeners.values()].flatMap((s) => [...s]);
        this.listeners.clear();
        this.size = 0;
        for (const l of all) l.broken();
      }
    }
  }

  private dispatch(sequence: number, raw: string): void {
    const event = parseEnvelope(raw);
    if (!event) return;
    const e: LoggedEvent = { sequence, raw, event };
    const byTask = this.listeners.get(taskKey(event.tenantid, event.correlationid));
    const byTenant = typeSelected(event.type, ESCALATION_EVENTS) ? this.listeners.get(escalationKey(event.tenantid)) : undefined;
    for (const set of [byTask, byTenant]) {
      if (!set) continue;
      for (const l of [...set]) {
        try {
          l.deliver(e);
        } catch (err) {
          this.log.warn({ err }, 'live listener failed');
        }
      }
    }
  }
}
