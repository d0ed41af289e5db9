import { Bus, startConsumer, type ConsumerSpec, type HandlerEvent, type RunningConsumer } from '@steward/bus';
import type { EventKey } from '@steward/contracts';
import { OutboxRelay, UnitOfWork, createDatabase, isRetryableConflict, type PrismaClient, type SqlClient, type UnitOfWorkContext } from '@steward/state';
import { Redis } from 'ioredis';
import type { DestinationStream } from 'pino';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import { redactConfig, type BaseConfig } from './config.js';
import { createLogger, type PinoLogger } from './logger.js';
import { initTracing, type Tracing } from './tracing.js';

/** What every service's config has (the service adds its own variables). */
export type RuntimeConfig = BaseConfig & { REDIS_URL?: string };

export interface RuntimeOptions<C extends RuntimeConfig> {
  service: string;
  config: C;
  /** Connect to Redis (cache and rate limits only; never the only copy of anything). */
  redis?: boolean;
  /** Where the log lines go (default stdout); tests pass one to read them. */
  logDestination?: DestinationStream;
}

/**
 * What every Steward service holds: logger, metrics registry, JetStream bus, Prisma, the outbox relay and the
 * unit of work that ties state changes to the events they emit. Started once in main.ts, shut down on SIGTERM.
 */
export class ServiceRuntime<C extends RuntimeConfig = RuntimeConfig> {
  private readonly consumers: RunningConsumer[] = [];
  private shuttingDown: Promise<void> | undefined;
  private draining = false;
  private readonly pruneTimer: NodeJS.Timeout;
  private readonly conflicts: Counter<'consumer'>;

  private constructor(
    readonly service: string,
    /** The service's own parsed config: modules inject ServiceRuntime<TheirConfig> to read it. */
    readonly config: C,
    readonly log: PinoLogger,
    readonly registry: Registry,
    readonly bus: Bus,
    readonly prisma: PrismaClient,
    readonly relay: OutboxRelay,
    readonly uow: UnitOfWork,
    readonly redis: Redis | undefined,
    /** OpenTelemetry tracing when configured (OTEL_EXPORTER_OTLP_*); undefined when off. */
    readonly tracing: Tracing | undefined,
  ) {
    // Inbox rows only need to outlive redeliveries (minutes); a week keeps a wide margin and bounds the table.
    this.pruneTimer = setInterval(() => void this.pruneInbox(), 60 * 60 * 1000);
    this.pruneTimer.unref();
    this.conflicts = new Counter({
      name: 'steward_transaction_conflicts_total',
      help: 'Batches whose transaction lost to a concurrent one (40001, 40P01; in the workflow-runner also a stale cached run) and ran again',
      labelNames: ['consumer'],
      registers: [registry],
    });
  }

  /** Deletes inbox records older than INBOX_RETENTION_DAYS; returns how many. */
  async pruneInbox(): Promise<number> {
    try {
      const n = await this.prisma.$executeRaw`DELETE FROM inbox WHERE processed_at < now() - make_interval(days => ${this.config.INBOX_RETENTION_DAYS})`;
      if (n > 0) this.log.info({ deleted: n }, 'pruned inbox');
      return n;
    } catch (err) {
      this.log.warn({ err }, 'inbox pruning failed; will try again');
      return 0;
    }
  }

  static async start<C extends RuntimeConfig>(opts: RuntimeOptions<C>): Promise<ServiceRuntime<C>> {
    const { config, service } = opts;
    const log = createLogger(service, config.LOG_LEVEL, opts.logDestination);
    log.info({ config: redactConfig(config) }, 'starting');
    const tracing = await initTracing({ service, config, log });
    log.info({ tracing: tracing ? 'on' : 'off' }, tracing ? 'tracing: spans exported over OTLP/HTTP' : 'tracing off (no OTLP endpoint configured)');
    const registry = new Registry();
    registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: registry });
    const bus = await Bus.connect({ servers: config.NATS_URL, name: service, namespace: config.NATS_NAMESPACE, registry });
    await bus.provision({ eventsMaxAgeMs: config.EVENTS_MAX_AGE_DAYS * 24 * 3600 * 1000, replicas: config.NATS_STREAM_REPLICAS });
    const { prisma, pool, statementName } = createDatabase({ databaseUrl: config.DATABASE_URL, schema: config.DATABASE_SCHEMA, poolSize: config.DATABASE_POOL_SIZE, preparedStatements: config.DATABASE_PREPARED_STATEMENTS });
    const relay = new OutboxRelay(bus, { databaseUrl: config.DATABASE_URL, schema: config.DATABASE_SCHEMA, log: log.child({ component: 'outbox-relay' }), registry });
    await relay.start();
    const redis = opts.redis && config.REDIS_URL ? new Redis(config.REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 1, enableOfflineQueue: false }) : undefined;
    redis?.on('error', (err) => log.warn({ err: err.message }, 'redis unavailable'));
    return new ServiceRuntime(service, config, log, registry, bus, prisma, relay, new UnitOfWork(prisma, relay, { pool, statementName }), redis, tracing);
  }

  /** Starts a durable consumer that stops with the runtime. */
  async consume<K extends EventKey>(spec: ConsumerSpec<K>): Promise<void> {
    this.consumers.push(await startConsumer(this.bus, spec, this.log.child({ consumer: spec.durable })));
  }

  /**
   * A consumer whose handler runs exactly once per event: the events' effects, their inbox records and the events
   * they emit commit together. `handle` receives the messages already waiting (up to maxBatch, de-duplicated) and
   * should act on them set-wise; wrap a per-event function in `each`. A transaction that loses to a concurrent one
   * (40001, 40P01) runs again at once; a batch that fails otherwise is retried one by one.
   */
  async consumeIdempotent<K extends EventKey, R = void>(
    spec: Omit<ConsumerSpec<K>, 'handle' | 'handleBatch'> &
      IdempotentHandler<K, R> & {
        /**
         * Called with what `handle` returned once its transaction has committed: never for work rolled back, nor for
         * redeliveries the inbox skipped. For counting what a transaction changed (metrics); it must not throw.
         */
        afterCommit?: (result: R) => void;
        /**
         * false: no inbox record, one statement less per batch. Only for handlers idempotent by the state they check
         * (fencing on attempts and statuses, inserts that skip existing rows), so that a redelivery changes nothing.
         */
        inbox?: boolean;
      },
  ): Promise<void> {
    const { handle: _handle, sqlOnly: _sqlOnly, inbox = true, afterCommit, ...rest } = spec;
    const ids = (events: HandlerEvent<K>[]) => events.map((e) => e.envelope.id);
    // With the inbox: only the events it had not seen (a redelivery can sit in the same batch as the original).
    const onFresh =
      <C>(events: HandlerEvent<K>[], handle: (ctx: C, events: HandlerEvent<K>[]) => Promise<R>) =>
      async (ctx: C, fresh: ReadonlySet<string>): Promise<{ result: R } | undefined> => {
        const pending = new Set(fresh);
        const todo = events.filter((e) => pending.delete(e.envelope.id));
        return todo.length > 0 ? { result: await handle(ctx, todo) } : undefined;
      };
    const all =
      <C>(events: HandlerEvent<K>[], handle: (ctx: C, events: HandlerEvent<K>[]) => Promise<R>) =>
      async (ctx: C): Promise<{ result: R }> => ({ result: await handle(ctx, dedupe(events)) });
    const transact = (events: HandlerEvent<K>[]): Promise<{ result: R } | undefined> => {
      if (spec.sqlOnly === true) {
        return inbox ? this.uow.sqlRunBatch(spec.durable, ids(events), onFresh(events, spec.handle)) : this.uow.sqlTransaction(all(events, spec.handle));
      }
      return inbox ? this.uow.runBatch(spec.durable, ids(events), onFresh(events, spec.handle)) : this.uow.transaction(all(events, spec.handle));
    };
    const runBatch = async (events: HandlerEvent<K>[]): Promise<void> => {
      const done = await retryConflicts(
        () => transact(events),
        () => this.conflicts.inc({ consumer: spec.durable }),
      );
      if (done === undefined || afterCommit === undefined) return;
      try {
        afterCommit(done.result);
      } catch (err) {
        this.log.warn({ err, consumer: spec.durable }, 'afterCommit failed (the transaction is committed)');
      }
    };
    await this.consume<K>({ ...rest, handle: (e) => runBatch([e]), handleBatch: runBatch });
  }

  /**
   * Readiness for /readyz: each dependency's state ('ok' or why not). NATS and PostgreSQL are required; Redis is
   * reported but optional (rule 7: without it the service only stops rate-limiting). Draining is not ready.
   */
  async readiness(): Promise<{ ready: boolean; checks: Record<string, string> }> {
    // Every check gets its handler at once and they run side by side: a check that fails while another is
    // awaited must not become an unhandled rejection (that would crash the process).
    const check = (run: () => PromiseLike<string>): Promise<string> =>
      withTimeout(Promise.resolve().then(run), 2000).catch((err: unknown) => (err instanceof Error ? err.message : String(err)));
    const checks: Record<string, Promise<string>> = {
      nats: check(async () => (this.bus.healthy() ? 'ok' : 'disconnected')),
      postgres: check(() => this.prisma.$queryRawUnsafe('SELECT 1').then(() => 'ok')),
    };
    const redis = this.redis;
    if (redis) checks.redis = check(() => redis.ping().then((r) => (r === 'PONG' ? 'ok' : r)));
    const out: Record<string, string> = {};
    for (const [k, p] of Object.entries(checks)) out[k] = await p;
    const ready = out.nats === 'ok' && out.postgres === 'ok' && !this.draining;
    if (this.draining) out.shutdown = 'draining';
    return { ready, checks: out };
  }

  /** Marks the service not ready, so load balancers stop sending work before the drain. */
  beginDrain(): void {
    this.draining = true;
  }

  /** Graceful drain: consumers finish in-flight work and ack, the relay publishes what is committed, then connections close. */
  shutdown(): Promise<void> {
    this.shuttingDown ??= (async () => {
      this.draining = true;
      clearInterval(this.pruneTimer);
      this.log.info({ consumers: this.consumers.length }, 'draining');
      await Promise.all(this.consumers.map((c) => c.stop()));
      await this.relay.stop();
      await this.bus.close();
      await this.prisma.$disconnect();
      this.redis?.disconnect();
      // Last: the spans of the drain itself are exported too.
      await this.tracing?.shutdown().catch((err: unknown) => this.log.warn({ err }, 'flushing traces failed'));
      this.log.info('drained');
    })();
    return this.shuttingDown;
  }
}

/**
 * An idempotent consumer's handler: on Prisma's transaction client, or — `sqlOnly`, for handlers that only run raw SQL
 * — on node-postgres directly (`UnitOfWork.sqlTransaction`: about 1 ms less per transaction).
 */
type IdempotentHandler<K extends EventKey, R> =
  | { sqlOnly?: false; handle: (ctx: UnitOfWorkContext, events: HandlerEvent<K>[]) => Promise<R> }
  | { sqlOnly: true; handle: (ctx: UnitOfWorkContext<SqlClient>, events: HandlerEvent<K>[]) => Promise<R> };

/** Drops repeats of an event within a batch (a redelivery can sit beside the original). */
/**
 * A transaction that lost to a concurrent one (serialization failure, deadlock) runs again at once, up to three times
 * in all: it changed nothing, and waiting out a redelivery would only add latency.
 */
export async function retryConflicts<T>(fn: () => Promise<T>, onConflict: () => void = () => undefined): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isRetryableConflict(err)) throw err;
      onConflict();
      if (attempt >= 3) throw err;
    }
  }
}

function dedupe<E extends { envelope: { id: string } }>(events: E[]): E[] {
  const seen = new Set<string>();
  return events.filter((e) => !seen.has(e.envelope.id) && seen.add(e.envelope.id));
}

/** Adapts a per-event handler to consumeIdempotent's batch shape (events run one after another, one transaction). */
export function each<E, C extends UnitOfWorkContext<SqlClient> = UnitOfWorkContext>(fn: (ctx: C, event: E) => Promise<void>): (ctx: C, events: E[]) => Promise<void> {
  return async (ctx, events) => {
    for (const e of events) await fn(ctx, e);
  };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then(resolve, reject).finally(() => clearTimeout(t));
  });
}
