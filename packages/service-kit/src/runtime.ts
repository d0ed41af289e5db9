import { Bus, startConsumer, type ConsumerSpec, type RunningConsumer } from '@steward/bus';
import type { EventKey } from '@steward/contracts';
import { OutboxRelay, UnitOfWork, createPrismaClient, type PrismaClient } from '@steward/state';
import { Redis } from 'ioredis';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { redactConfig, type BaseConfig } from './config.js';
import { createLogger, type PinoLogger } from './logger.js';

export interface RuntimeOptions {
  service: string;
  config: BaseConfig & { REDIS_URL?: string };
  /** Connect to Redis (cache and rate limits only; never the only copy of anything). */
  redis?: boolean;
}

/**
 * What every Steward service holds: logger, metrics registry, JetStream bus, Prisma, the outbox relay and the
 * unit of work that ties state changes to the events they emit. Started once in main.ts, shut down on SIGTERM.
 */
export class ServiceRuntime {
  private readonly consumers: RunningConsumer[] = [];
  private shuttingDown: Promise<void> | undefined;

  private constructor(
    readonly service: string,
    readonly config: RuntimeOptions['config'],
    readonly log: PinoLogger,
    readonly registry: Registry,
    readonly bus: Bus,
    readonly prisma: PrismaClient,
    readonly relay: OutboxRelay,
    readonly uow: UnitOfWork,
    readonly redis: Redis | undefined,
  ) {}

  static async start(opts: RuntimeOptions): Promise<ServiceRuntime> {
    const { config, service } = opts;
    const log = createLogger(service, config.LOG_LEVEL);
    log.info({ config: redactConfig(config) }, 'starting');
    const registry = new Registry();
    registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: registry });
    const bus = await Bus.connect({ servers: config.NATS_URL, name: service, namespace: config.NATS_NAMESPACE, registry });
    await bus.provision({ eventsMaxAgeMs: config.EVENTS_MAX_AGE_DAYS * 24 * 3600 * 1000 });
    const prisma = createPrismaClient({ databaseUrl: config.DATABASE_URL, schema: config.DATABASE_SCHEMA, poolSize: config.DATABASE_POOL_SIZE });
    const relay = new OutboxRelay(bus, { databaseUrl: config.DATABASE_URL, schema: config.DATABASE_SCHEMA, log: log.child({ component: 'outbox-relay' }), registry });
    await relay.start();
    const redis = opts.redis && config.REDIS_URL ? new Redis(config.REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 1, enableOfflineQueue: false }) : undefined;
    redis?.on('error', (err) => log.warn({ err: err.message }, 'redis unavailable'));
    return new ServiceRuntime(service, config, log, registry, bus, prisma, relay, new UnitOfWork(prisma, relay), redis);
  }

  /** Starts a durable consumer that stops with the runtime. */
  async consume<K extends EventKey>(spec: ConsumerSpec<K>): Promise<void> {
    this.consumers.push(await startConsumer(this.bus, spec, this.log.child({ consumer: spec.durable })));
  }

  /** Each dependency's state for /readyz: 'ok' or the reason it is not. */
  async readiness(): Promise<Record<string, string>> {
    const checks: Record<string, Promise<string>> = {
      nats: Promise.resolve(this.bus.healthy() ? 'ok' : 'disconnected'),
      postgres: this.prisma.$queryRawUnsafe('SELECT 1').then(() => 'ok'),
    };
    if (this.redis) checks.redis = this.redis.ping().then((r) => (r === 'PONG' ? 'ok' : r));
    const out: Record<string, string> = {};
    for (const [k, p] of Object.entries(checks)) {
      out[k] = await withTimeout(p, 2000).catch((err: unknown) => (err instanceof Error ? err.message : String(err)));
    }
    if (this.shuttingDown) out.shutdown = 'draining';
    return out;
  }

  /** Graceful drain: consumers finish in-flight work and ack, the relay publishes what is committed, then connections close. */
  shutdown(): Promise<void> {
    this.shuttingDown ??= (async () => {
      this.log.info({ consumers: this.consumers.length }, 'draining');
      await Promise.all(this.consumers.map((c) => c.stop()));
      await this.relay.stop();
      await this.bus.close();
      await this.prisma.$disconnect();
      this.redis?.disconnect();
      this.log.info('drained');
    })();
    return this.shuttingDown;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then(resolve, reject).finally(() => clearTimeout(t));
  });
}
