// Test harness: the gateway's real Nest app (ServiceRuntime + GatewayModule through service-kit's serve) on a random
// port, against a fresh PostgreSQL schema and a fresh NATS namespace. Redis only when REDIS_URL is given (else the rate limiter lets all pass).
import 'reflect-metadata';
import type { Envelope, OutgoingEvent } from '@steward/contracts';
import { ServiceRuntime, loadConfig, serve, type RuntimeOptions } from '@steward/service-kit';
import { createTenant, issueApiKey, type ApiScope, type TestSchema, createTestSchema } from '@steward/state';
import { randomBytes } from 'node:crypto';
import { GatewayConfig } from '../src/config.js';
import { GatewayModule } from '../src/gateway.module.js';

export interface TestGateway {
  db: TestSchema;
  runtime: ServiceRuntime<GatewayConfig>;
  app: Awaited<ReturnType<typeof serve>>;
  url: string;
  /** `authorization` headers of a new key of this tenant (created if new) with these scopes (default admin). */
  authFor(tenantId: string, scopes?: readonly ApiScope[]): Promise<Record<string, string>>;
  /**
   * Sends a request; the body is sent as JSON unless it is a string (then as is, with the content type given).
   * Without an `authorization` header it authenticates as an admin key of tenant "default"; `authorization: ''` sends none.
   */
  request(method: string, path: string, opts?: { body?: unknown; headers?: Record<string, string> }): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }>;
  stop(): Promise<void>;
}

/**
 * `env` overrides the config (e.g. REDIS_URL with RATE_LIMIT_PER_SECOND to exercise the rate limiter). `logs` receives
 * the log lines (JSON, one per write; LOG_LEVEL in `env` sets how many), which are otherwise off.
 */
export async function startTestGateway(prefix = 'gateway', env: Record<string, string> = {}, logs?: RuntimeOptions<GatewayConfig>['logDestination']): Promise<TestGateway> {
  const db = await createTestSchema(prefix);
  const config = loadConfig(GatewayConfig, {
    DATABASE_URL: db.databaseUrl,
    DATABASE_SCHEMA: db.schema,
    DATABASE_POOL_SIZE: '4',
    NATS_URL: process.env.NATS_URL,
    NATS_NAMESPACE: `t${randomBytes(5).toString('hex')}`,
    LOG_LEVEL: 'silent',
    HTTP_PORT: '0',
    ...env,
  });
  const runtime = await ServiceRuntime.start({ service: 'gateway', config, redis: env['REDIS_URL'] !== undefined, ...(logs ? { logDestination: logs } : {}) });
  // serve() wires SIGTERM/SIGINT to a drain and process.exit: not wanted inside the test runner.
  const before = { SIGTERM: process.listeners('SIGTERM'), SIGINT: process.listeners('SIGINT') };
  const app = await serve(runtime, GatewayModule, { port: 0, host: '127.0.0.1', bodyLimitBytes: config.BODY_LIMIT_BYTES });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    for (const l of process.listeners(signal)) if (!before[signal].includes(l)) process.removeListener(signal, l);
  }
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const authFor = async (tenantId: string, scopes: readonly ApiScope[] = ['admin']) => {
    await createTenant(runtime.prisma, { id: tenantId });
    const { key } = await issueApiKey(runtime.prisma, { tenantId, name: 'test', scopes });
    return { authorization: `Bearer ${key}` };
  };
  const defaultAuth = await authFor('default');

  return {
    db,
    runtime,
    app,
    url,
    authFor,
    async request(method, path, opts = {}) {
      const headers: Record<string, string> = { ...defaultAuth, ...opts.headers };
      if (headers['authorization'] === '') delete headers['authorization'];
      let body: string | undefined;
      if (typeof opts.body === 'string') body = opts.body;
      else if (opts.body !== undefined) {
        body = JSON.stringify(opts.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await fetch(`${url}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    },
    async stop() {
      await app.close();
      for (const key of ['events', 'commands', 'deadLetters'] as const) await runtime.bus.jsm.streams.delete(runtime.bus.streamName(key)).catch(() => false);
      await runtime.shutdown();
      await db.drop();
    },
  };
}

/** Resolves once `pick(items)` finds something, polling every 20 ms (items is a list a consumer appends to). */
export async function eventually<T, R>(items: T[], pick: (items: T[]) => R | undefined, ms = 10_000): Promise<R> {
  const t0 = Date.now();
  for (;;) {
    const r = pick(items);
    if (r !== undefined) return r;
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms with ${items.length} messages`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

/**
 * Publishes `marker` on the gateway's bus and waits until a test consumer has appended it to `received`, then drops it
 * from there. A message published by mistake before it on the same stream is delivered ahead of it, so "nothing
 * arrived" holds from then on without sleeping.
 */
export async function settle(gw: TestGateway, received: Envelope<unknown>[], marker: OutgoingEvent): Promise<void> {
  await gw.runtime.bus.publish(marker);
  await eventually(received, (l) => (l.some((e) => e.id === marker.envelope.id) ? true : undefined));
  received.splice(received.findIndex((e) => e.id === marker.envelope.id), 1);
}
