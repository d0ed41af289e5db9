import { Catalogue, SUBJECT_ROOT, Streams, type Envelope } from '@steward/contracts';
import type { Bus } from '@steward/bus';

// Types of the JetStream client as the bus holds it (the gateway does not depend on @nats-io/jetstream itself).
type ConsumerApi = Bus['js']['consumers'];
export type OrderedConsumerOptions = Partial<Exclude<NonNullable<Parameters<ConsumerApi['get']>[1]>, string>>;
export type StreamConsumer = Awaited<ReturnType<ConsumerApi['get']>>;
export type StreamMessage = NonNullable<Awaited<ReturnType<StreamConsumer['next']>>>;

/** One event of the retained stream: its stream sequence, the envelope as stored, and the envelope parsed. */
export interface LoggedEvent {
  sequence: number;
  raw: string;
  event: Envelope;
}

export interface ScanOptions {
  /** First sequence to read (inclusive). */
  fromSeq?: number;
  /** Or: the first message stored at or after this time (JetStream's own timestamps). */
  fromTime?: Date;
  /** Last sequence to read (inclusive); default: the stream's last sequence when the scan starts. */
  toSeq?: number;
  /** One subject filter (on the wire); NATS 2.9 takes one per consumer. */
  filterSubject?: string;
  /** Messages examined before the scan stops with `reachedEnd: false`. */
  maxExamined?: number;
  /** Byte strings a message must all contain to be parsed at all (a cheap pre-filter; `match` decides). */
  needles?: readonly string[];
  /** Which events are wanted. */
  match(event: Envelope): boolean;
  /** Called for each wanted event in stream order; returning false stops the scan (`reachedEnd: false`). */
  onEvent(e: LoggedEvent): boolean | Promise<boolean>;
  /** Stops the scan as soon as it is seen (a client went away). */
  signal?: AbortSignal;
}

export interface ScanResult {
  /** The last sequence looked at (everything up to it was examined); `fromSeq - 1` when none was. */
  lastExamined: number;
  /** True when the scan got to `toSeq` (or the end of the stream). */
  reachedEnd: boolean;
  /** The `toSeq` the scan ran to. */
  toSeq: number;
}

/** A stall this long with messages still expected means they went away (expired or purged) while being read. */
const STALL_MS = 5_000;
const encoder = new TextEncoder();

/**
 * Reads the retained event stream (STEWARD_EVENTS) in order with a short-lived ordered consumer, bounded to the
 * stream's end at the start of the read: the audit trail is the stream itself, never a copy. Filtering by tenant or
 * task is on envelope fields (subjects carry neither), with a byte pre-filter so that only candidate messages are
 * parsed.
 */
export class EventLog {
  constructor(private readonly bus: Bus) {}

  get stream(): string {
    return this.bus.streamName('events');
  }

  /** The stream's last sequence now (0 when empty). */
  async lastSequence(): Promise<number> {
    return (await this.bus.jsm.streams.info(this.stream)).state.last_seq;
  }

  async scan(o: ScanOptions): Promise<ScanResult> {
    const info = await this.bus.jsm.streams.info(this.stream);
    const toSeq = Math.min(o.toSeq ?? info.state.last_seq, info.state.last_seq);
    const fromSeq = Math.max(o.fromSeq ?? 1, 1);
    // Nothing (more) to read: everything up to the end counts as examined, and a cursor never moves back.
    const none: ScanResult = { lastExamined: Math.max(fromSeq - 1, toSeq), reachedEnd: true, toSeq };
    if (o.signal?.aborted) return { lastExamined: fromSeq - 1, reachedEnd: false, toSeq };
    if (info.state.messages === 0 || (o.fromTime === undefined && fromSeq > toSeq)) return none;

    const opts: OrderedConsumerOptions = { inactive_threshold: 30_000 };
    if (o.fromTime !== undefined) opts.opt_start_time = o.fromTime.toISOString();
    else opts.opt_start_seq = fromSeq;
    if (o.filterSubject !== undefined) opts.filter_subjects = o.filterSubject;
    const consumer = await this.bus.js.consumers.get(this.stream, opts);
    let lastExamined = fromSeq - 1;
    try {
      if ((await consumer.info(true)).num_pending === 0) return none;
      const needles = (o.needles ?? []).map((n) => Buffer.from(encoder.encode(n)));
      const max = o.maxExamined ?? Number.POSITIVE_INFINITY;
      const msgs = await consumer.consume({ max_messages: Math.max(1, Math.min(1000, max)) });
      let examined = 0;
      let reachedEnd = false;
      let stalled = false;
      const stall = () => {
        stalled = true;
        void msgs.close();
      };
      let timer = setTimeout(stall, STALL_MS);
      const abort = () => void msgs.close();
      o.signal?.addEventListener('abort', abort, { once: true });
      try {
        for await (const m of msgs) {
          clearTimeout(timer);
          if (m.seq > toSeq) {
            reachedEnd = true;
            break;
          }
          lastExamined = m.seq;
          examined++;
          const data = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength);
          const atEnd = m.seq >= toSeq || m.info.pending === 0;
          let stop = false;
          if (needles.every((n) => data.includes(n))) {
            const raw = data.toString('utf8');
            const event = parseEnvelope(raw);
            if (event !== undefined && o.match(event)) stop = !(await o.onEvent({ sequence: m.seq, raw, event }));
          }
          if (atEnd) {
            reachedEnd = true;
            break;
          }
          if (stop || examined >= max || o.signal?.aborted) break;
          timer = setTimeout(stall, STALL_MS);
        }
      } finally {
        clearTimeout(timer);
        o.signal?.removeEventListener('abort', abort);
        await msgs.close();
      }
      if (stalled) reachedEnd = true;
      return { lastExamined: reachedEnd ? Math.max(lastExamined, toSeq) : lastExamined, reachedEnd, toSeq };
    } finally {
      // Not awaited: the answer need not wait for it (and the server drops an idle ordered consumer anyway).
      void consumer.delete().catch(() => false);
    }
  }
}

/** The envelope of a stored message, or undefined for anything that is not one (never throws). */
export function parseEnvelope(raw: string): Envelope | undefined {
  try {
    const v = JSON.parse(raw) as Partial<Envelope> | null;
    if (v === null || typeof v !== 'object' || typeof v.type !== 'string' || typeof v.tenantid !== 'string' || typeof v.correlationid !== 'string' || typeof v.id !== 'string') return undefined;
    return v as Envelope;
  } catch {
    return undefined;
  }
}

/** Event names of the retained stream (`task.completed`, …) and their types (`steward.task.completed.v1`, …). */
export const EVENT_NAMES: ReadonlySet<string> = new Set(Object.values(Catalogue).filter((e) => e.stream === 'events').map((e) => e.name));
const EVENT_TYPES: ReadonlySet<string> = new Set(Object.values(Catalogue).filter((e) => e.stream === 'events').map((e) => e.type));

/** Whether `selector` names an event of the retained stream: a name (any version) or a full CloudEvents type. */
export function isEventSelector(selector: string): boolean {
  return EVENT_NAMES.has(selector) || EVENT_TYPES.has(selector);
}

/** Whether a CloudEvents type is selected by one of the selectors (names match every version). */
export function typeSelected(type: string, selectors: readonly string[]): boolean {
  return selectors.some((s) => {
    const prefix = `${SUBJECT_ROOT}.${s}.v`;
    return s === type || (type.startsWith(prefix) && /^\d+$/.test(type.slice(prefix.length)));
  });
}

/** A catalogue subject filter for one selector: every version and route of a name, or one type's subjects. */
export function subjectFilterFor(selector: string): string {
  const exact = Object.values(Catalogue).find((e) => e.type === selector);
  if (exact) return exact.filter;
  return `${Streams.events.subjects[0].slice(0, -1)}${selector}.>`;
}
