import { connect, headers as natsHeaders, nanos, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, RetentionPolicy, StorageType, DiscardPolicy, type JetStreamClient, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { Streams, type OutgoingEvent, type StreamKey } from '@steward/contracts';
import type { Registry } from 'prom-client';
import { busMetrics, type BusMetrics } from './metrics.js';
import { busTracer, tracePublish } from './tracing.js';

export interface BusOptions {
  servers: string | string[];
  /** Connection name shown by the server (`nats server report connections`). */
  name: string;
  /** Isolates streams and subjects (tests, several installations on one server). Empty in production. */
  namespace?: string;
  registry?: Registry;
}

export interface ProvisionOptions {
  /** How long the audit event log keeps events. */
  eventsMaxAgeMs?: number;
  deadLettersMaxAgeMs?: number;
  /** JetStream de-duplicates on Nats-Msg-Id within this window. */
  duplicateWindowMs?: number;
  /**
   * Replicas of each stream (NATS_STREAM_REPLICAS), applied on creation and on every update, so a restart keeps
   * the count it is given: 1 on a single server, up to the number of JetStream servers in a cluster.
   */
  replicas?: number;
}

/** The streams could not be given the replica count asked for (NATS_STREAM_REPLICAS against the NATS servers). */
export class StreamReplicasError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StreamReplicasError';
  }
}

export interface RawMessage {
  subject: string;
  payload: string | Uint8Array;
  msgId: string;
  headers?: Record<string, string>;
}

const DAY = 24 * 60 * 60 * 1000;

/** The JetStream plumbing shared by every service: one connection, namespaced streams, typed publishing. */
export class Bus {
  readonly metrics: BusMetrics;
  private readonly encoder = new TextEncoder();

  private constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    readonly namespace: string,
    registry: Registry | undefined,
  ) {
    this.metrics = busMetrics(registry);
  }

  static async connect(opts: BusOptions): Promise<Bus> {
    const nc = await connect({ servers: opts.servers, name: opts.name, maxReconnectAttempts: -1, reconnectTimeWait: 500 });
    const jsm = await jetstreamManager(nc);
    return new Bus(nc, jetstream(nc), jsm, opts.namespace ?? '', opts.registry);
  }

  streamName(key: StreamKey): string {
    return this.namespace ? `${this.namespace}_${Streams[key].name}` : Streams[key].name;
  }

  /** Subject on the wire for a catalogue subject (adds the namespace). */
  wireSubject(subject: string): string {
    return this.namespace ? `${this.namespace}.${subject}` : subject;
  }

  /** Catalogue subject for a subject on the wire (strips the namespace). */
  catalogueSubject(wire: string): string {
    return this.namespace && wire.startsWith(`${this.namespace}.`) ? wire.slice(this.namespace.length + 1) : wire;
  }

  /** Creates or updates the streams; safe to run from every service at every start. */
  async provision(opts: ProvisionOptions = {}): Promise<void> {
    const dup = nanos(opts.duplicateWindowMs ?? 2 * 60 * 1000);
    const replicas = opts.replicas ?? 1;
    if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) throw new StreamReplicasError(`NATS_STREAM_REPLICAS=${replicas}: stream replicas must be an integer from 1 to 5`);
    // A server outside a cluster refuses to create a stream with replicas > 1, and some versions accept the update
    // of an existing one and then report a count they do not keep: say so before touching any stream.
    const server = this.nc.info;
    if (replicas > 1 && server !== undefined && !server.cluster) {
      throw new StreamReplicasError(
        `NATS_STREAM_REPLICAS=${replicas}, but the NATS server ${server.server_name || server.server_id} is not part of a cluster: ` +
          `JetStream keeps more than one replica of a stream only on a cluster of at least ${replicas} servers. Set NATS_STREAM_REPLICAS=1 for a single server.`,
      );
    }
    const configs: Record<StreamKey, Partial<StreamConfig>> = {
      events: { retention: RetentionPolicy.Limits, max_age: nanos(opts.eventsMaxAgeMs ?? 30 * DAY) },
      commands: { retention: RetentionPolicy.Workqueue, max_age: 0 },
      deadLetters: { retention: RetentionPolicy.Limits, max_age: nanos(opts.deadLettersMaxAgeMs ?? 30 * DAY) },
    };
    for (const key of Object.keys(Streams) as StreamKey[]) {
      const config: Partial<StreamConfig> & { name: string } = {
        ...configs[key],
        name: this.streamName(key),
        subjects: Streams[key].subjects.map((s) => this.wireSubject(s)),
        storage: StorageType.File,
        discard: DiscardPolicy.Old,
        duplicate_window: dup,
        num_replicas: replicas,
      };
      try {
        try {
          await this.jsm.streams.info(config.name);
          const { retention: _fixedAtCreation, ...mutable } = config;
          await this.jsm.streams.update(config.name, mutable);
        } catch (err) {
          if (!isNotFound(err)) throw err;
          await this.jsm.streams.add(config);
        }
      } catch (err) {
        // E.g. a cluster with fewer JetStream servers than replicas ("insufficient resources").
        if (replicas > 1) throw new StreamReplicasError(`stream ${config.name} with NATS_STREAM_REPLICAS=${replicas}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
        throw err;
      }
    }
  }

  /** Publishes one catalogue event and waits for JetStream's ack; the envelope id is the Nats-Msg-Id. */
  async publish(event: OutgoingEvent): Promise<void> {
    await this.publishRaw({ subject: event.subject, payload: JSON.stringify(event.envelope), msgId: event.envelope.id, headers: traceHeaders(event.envelope.traceparent) });
  }

  /**
   * Publishes an already-serialized message (outbox relay, dead letters); returns once JetStream stored it. With
   * tracing on, a producer span covers the publish (its parent: the message's `traceparent` header).
   */
  publishRaw(m: RawMessage): Promise<{ duplicate: boolean; stream: string }> {
    const t = busTracer();
    return t === undefined ? this.send(m) : tracePublish(t, m.subject, m.msgId, m.headers?.traceparent, () => this.send(m));
  }

  private async send(m: RawMessage): Promise<{ duplicate: boolean; stream: string }> {
    const opts: Parameters<JetStreamClient['publish']>[2] = { msgID: m.msgId };
    if (m.headers && Object.keys(m.headers).length > 0) {
      const h = natsHeaders();
      for (const [k, v] of Object.entries(m.headers)) h.set(k, v);
      opts.headers = h;
    }
    const payload = typeof m.payload === 'string' ? this.encoder.encode(m.payload) : m.payload;
    const ack = await this.js.publish(this.wireSubject(m.subject), payload, opts);
    this.metrics.published.inc({ stream: ack.stream });
    return { duplicate: ack.duplicate, stream: ack.stream };
  }

  async close(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.drain();
  }

  /** True while connected (used by readiness checks). */
  healthy(): boolean {
    return !this.nc.isClosed() && !this.nc.isDraining() && this.nc.info !== undefined;
  }
}

export function traceHeaders(traceparent: string | undefined): Record<string, string> | undefined {
  return traceparent ? { traceparent } : undefined;
}

export function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; message?: string; code?: number; api_error?: { err_code?: number } };
  return e?.name === 'StreamNotFoundError' || e?.name === 'ConsumerNotFoundError' || /not found/i.test(e?.message ?? '');
}
