import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { ServiceRuntime } from '@steward/service-kit';
import type { ServerResponse } from 'node:http';
import { AuditUseCase } from '../audit/audit.usecase.js';
import { typeSelected, type LoggedEvent, type ScanOptions } from '../audit/event-log.js';
import type { GatewayConfig } from '../config.js';
import { ApiError } from '../http/api-error.js';
import { ESCALATION_EVENTS, FINAL_TASK_EVENTS, LiveHub, escalationKey, taskKey, type LiveListener } from './live-hub.js';
import { GaugeMetric } from './metrics.js';
import { SseWriter } from './sse.js';

/** Live events a client may hold while its replay runs; beyond it the replay goes round once more instead. */
const MAX_BUFFERED_EVENTS = 10_000;
const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

type Start = Pick<ScanOptions, 'fromSeq' | 'fromTime'> | undefined;

interface SessionSpec {
  kind: 'task' | 'escalations';
  key: string;
  keyId: string;
  /** Where the replay starts; undefined: no replay, live from now. */
  start: Start;
  needles: string[];
  match: ScanOptions['match'];
  /** Only events after this sequence are sent (the client's Last-Event-ID). */
  after: number;
  /** Ends the stream after sending this event. */
  isFinal?: (e: LoggedEvent) => boolean;
  /** After the replay, when no final event came: end now (a task whose final event is gone from the stream). */
  endAfterReplay?: () => boolean;
  endData?: (e: LoggedEvent | undefined) => unknown;
}

/**
 * Live updates over server-sent events. A client first gets the events it missed (a replay read from the stream,
 * from its Last-Event-ID or the task's start), then the live ones from the process's shared subscription; the
 * client is attached to the subscription *before* the replay and the replay runs up to the subscription's position
 * at that moment, so nothing falls between the two and nothing comes twice (events are sent in increasing sequence).
 */
@Injectable()
export class LiveUseCase implements OnModuleDestroy {
  readonly hub: LiveHub;
  private readonly sessions = new Set<Session>();
  private readonly perKey = new Map<string, number>();
  private readonly gauge: GaugeMetric;
  private readonly revocationSweep: NodeJS.Timeout;

  constructor(
    @Inject(ServiceRuntime) private readonly runtime: ServiceRuntime<GatewayConfig>,
    @Inject(AuditUseCase) private readonly audit: AuditUseCase,
  ) {
    this.hub = new LiveHub(runtime.bus, runtime.log.child({ component: 'live' }), runtime.config.LIVE_IDLE_STOP_MS);
    this.gauge = new GaugeMetric(runtime.registry, 'steward_live_streams', 'Server-sent event streams open on this gateway, by kind (task, escalations)');
    this.revocationSweep = setInterval(() => {
      this.endRevoked().catch((err: unknown) => runtime.log.warn({ err }, 'could not check live streams for revoked keys'));
    }, runtime.config.LIVE_HEARTBEAT_MS);
    this.revocationSweep.unref();
  }

  /** Checks the task and the limits (errors are still ordinary responses), then returns the stream to run. */
  async prepareTask(tenantId: string, keyId: string, taskId: string, after: number | undefined): Promise<((res: ServerResponse) => Promise<void>) | 'ended'> {
    const task = await this.runtime.prisma.task.findFirst({ where: { id: taskId, tenantId }, select: { createdAt: true, status: true, completedAt: true } });
    if (!task) throw new ApiError(404, 'not_found', `task ${taskId} not found`);
    const terminal = TERMINAL.has(task.status);
    const isFinal = (e: LoggedEvent) => typeSelected(e.event.type, FINAL_TASK_EVENTS);
    const match = (e: LoggedEvent['event']) => e.correlationid === taskId && e.tenantid === tenantId;
    const needles = [JSON.stringify(taskId)];
    const taskStart = { fromTime: this.audit.taskStart(task.createdAt) };
    if (terminal && after !== undefined) {
      // A client that already has the final event is told there is nothing more (204: EventSource stops reconnecting).
      let finalSeq: number | undefined;
      const onEvent = (e: LoggedEvent): boolean => {
        if (isFinal(e)) finalSeq = e.sequence;
        return finalSeq === undefined;
      };
      try {
        await this.audit.log.scan({ ...taskStart, needles, match, onEvent });
      } catch (err) {
        this.runtime.log.warn({ err }, 'reading the event stream failed');
        throw new ApiError(503, 'unavailable', 'the event stream could not be read; retry');
      }
      if (finalSeq !== undefined && finalSeq <= after) return 'ended';
    }
    this.admit(keyId);
    const completedLongAgo = terminal && task.completedAt !== null && Date.now() - task.completedAt.getTime() > 60_000;
    return (res) =>
      this.run(res, {
        kind: 'task',
        key: taskKey(tenantId, taskId),
        keyId,
        start: after !== undefined ? { fromSeq: after + 1 } : taskStart,
        needles,
        match,
        after: after ?? 0,
        isFinal,
        endAfterReplay: () => completedLongAgo,
        endData: (e) => ({ taskId, status: e ? e.event.type.split('.')[2] : task.status }),
      });
  }

  prepareEscalations(tenantId: string, keyId: string, after: number | undefined): (res: ServerResponse) => Promise<void> {
    this.admit(keyId);
    return (res) =>
      this.run(res, {
        kind: 'escalations',
        key: escalationKey(tenantId),
        keyId,
        start: after !== undefined ? { fromSeq: after + 1 } : undefined,
        needles: [JSON.stringify(tenantId)],
        match: (e) => e.tenantid === tenantId && typeSelected(e.type, ESCALATION_EVENTS),
        after: after ?? 0,
      });
  }

  /** Counts a stream against the key's and the process's limits (released when the session closes). */
  private admit(keyId: string): void {
    const cfg = this.runtime.config;
    const mine = this.perKey.get(keyId) ?? 0;
    if (mine >= cfg.LIVE_MAX_STREAMS_PER_KEY) throw new ApiError(429, 'too_many_streams', `this API key already has ${mine} live streams open (at most ${cfg.LIVE_MAX_STREAMS_PER_KEY})`);
    const total = [...this.perKey.values()].reduce((a, b) => a + b, 0);
    if (total >= cfg.LIVE_MAX_STREAMS) throw new ApiError(503, 'unavailable', 'this gateway has no room for another live stream; retry');
    this.perKey.set(keyId, mine + 1);
  }

  private release(keyId: string): void {
    const n = (this.perKey.get(keyId) ?? 1) - 1;
    if (n <= 0) this.perKey.delete(keyId);
    else this.perKey.set(keyId, n);
  }

  private async run(res: ServerResponse, spec: SessionSpec): Promise<void> {
    const sse = new SseWriter(res, this.runtime.config.LIVE_MAX_BUFFERED_BYTES);
    const session = new Session(spec, sse, this.hub, this.audit);
    this.sessions.add(session);
    this.gauge.inc({ kind: spec.kind });
    let released = false;
    const cleanup = () => {
      if (released) return;
      released = true;
      session.close();
      sse.end();
      this.sessions.delete(session);
      this.release(spec.keyId);
      this.gauge.dec({ kind: spec.kind });
    };
    res.on('close', cleanup);
    if (res.destroyed || !res.socket || res.socket.destroyed) {
      cleanup(); // the client left before the stream began
      return;
    }
    sse.open(this.runtime.config.LIVE_HEARTBEAT_MS);
    try {
      await session.start();
    } catch (err) {
      this.runtime.log.warn({ err, kind: spec.kind }, 'live stream failed; the client will resume');
      sse.end();
      cleanup();
    }
  }

  /** Ends the streams of keys revoked since they opened (through any replica): one query per heartbeat period. */
  private async endRevoked(): Promise<void> {
    if (this.perKey.size === 0) return;
    const revoked = await this.runtime.prisma.apiKey.findMany({ where: { id: { in: [...this.perKey.keys()] }, revokedAt: { not: null } }, select: { id: true } });
    if (revoked.length === 0) return;
    const ids = new Set(revoked.map((k) => k.id));
    for (const s of [...this.sessions]) if (ids.has(s.keyId)) s.end();
  }

  /** Ends every open stream, so the HTTP server can close; clients reconnect to another replica with Last-Event-ID. */
  onModuleDestroy(): void {
    clearInterval(this.revocationSweep);
    for (const s of [...this.sessions]) s.end();
    this.hub.stop();
  }
}

/** One connected client: replay, then live, in increasing sequence. */
class Session implements LiveListener {
  readonly key: string;
  readonly keyId: string;
  private lastSent: number;
  private buffer: LoggedEvent[] | undefined = [];
  private overflowed = false;
  private ended = false;
  private readonly abort = new AbortController();

  constructor(
    private readonly spec: SessionSpec,
    private readonly sse: SseWriter,
    private readonly hub: LiveHub,
    private readonly audit: AuditUseCase,
  ) {
    this.key = spec.key;
    this.keyId = spec.keyId;
    this.lastSent = spec.after;
  }

  async start(): Promise<void> {
    let upTo = await this.hub.attach(this);
    let start = this.spec.start;
    for (;;) {
      if (this.ended) return;
      if (start !== undefined) {
        await this.audit.log.scan({
          ...start,
          toSeq: upTo,
          needles: this.spec.needles,
          match: this.spec.match,
          signal: this.abort.signal,
          onEvent: (e) => {
            this.send(e);
            return !this.ended;
          },
        });
      }
      if (this.ended) return;
      if (!this.overflowed) break;
      // Too many live events came during the replay and were dropped: replay those too, from where it stopped.
      this.overflowed = false;
      this.buffer = [];
      start = { fromSeq: upTo + 1 };
      upTo = this.hub.position;
    }
    const held = this.buffer ?? [];
    this.buffer = undefined;
    for (const e of held) this.send(e);
    if (!this.ended && this.spec.endAfterReplay?.()) this.finish(undefined);
  }

  deliver(e: LoggedEvent): void {
    if (this.ended) return;
    if (this.buffer) {
      if (this.buffer.length >= MAX_BUFFERED_EVENTS) {
        this.overflowed = true;
        this.buffer.length = 0;
      } else if (!this.overflowed) this.buffer.push(e);
      return;
    }
    this.send(e);
  }

  broken(): void {
    this.end();
  }

  /** Stops without a final event (shutdown, broken subscription): the client reconnects. */
  end(): void {
    this.close();
    this.sse.end();
  }

  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.abort.abort();
    this.hub.detach(this);
  }

  private send(e: LoggedEvent): void {
    if (this.ended || e.sequence <= this.lastSent) return;
    if (this.sse.closed) {
      this.close();
      return;
    }
    this.sse.event(e.sequence, e.raw);
    this.lastSent = e.sequence;
    if (this.spec.isFinal?.(e)) this.finish(e);
  }

  private finish(e: LoggedEvent | undefined): void {
    if (this.spec.endData) this.sse.named('end', this.spec.endData(e));
    this.end();
  }
}
