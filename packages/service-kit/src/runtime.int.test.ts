import { Controller, Get, Module, Param, Res } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createTestSchema, type TestSchema } from '@steward/state';
import type { FastifyReply } from 'fastify';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BaseConfig, RedisConfig, loadConfig } from './config.js';
import { Public, serve } from './http.js';
import { ServiceRuntime, retryConflicts } from './runtime.js';

describe('ServiceRuntime readiness (real NATS and PostgreSQL, Redis unreachable)', () => {
  let db: TestSchema;
  let rt: ServiceRuntime;
  beforeAll(async () => {
    db = await createTestSchema('runtime');
    const config = loadConfig(BaseConfig.extend(RedisConfig.shape), {
      DATABASE_URL: db.databaseUrl,
      DATABASE_SCHEMA: db.schema,
      NATS_NAMESPACE: `t${randomBytes(4).toString('hex')}`,
      REDIS_URL: 'redis://127.0.0.1:1', // nothing listens there
      LOG_LEVEL: 'silent',
    });
    rt = await ServiceRuntime.start({ service: 'test', config, redis: true });
  });
  afterAll(async () => {
    for (const key of ['events', 'commands', 'deadLetters'] as const) await rt.bus.jsm.streams.delete(rt.bus.streamName(key)).catch(() => false);
    await rt.shutdown();
    await db.drop();
  });

  it('stays ready without Redis, reports it, and does not crash on the failed check', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await rt.readiness();
      expect(r.ready).toBe(true);
      expect(r.checks).toMatchObject({ nats: 'ok', postgres: 'ok' });
      expect(r.checks.redis).not.toBe('ok');
    }
  });

  it('is not ready while draining', async () => {
    rt.beginDrain();
    const r = await rt.readiness();
    expect(r.ready).toBe(false);
    expect(r.checks.shutdown).toBe('draining');
  });
});

@Controller('things')
@Public()
class ThingsController {
  @Get(':id')
  get(@Param('id') id: string): { id: string } {
    return { id };
  }

  /** Taken over like a server-sent event stream. */
  @Get(':id/stream')
  stream(@Res() reply: FastifyReply): void {
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream' });
    reply.raw.end(': bye\n\n');
  }
}

@Module({ controllers: [ThingsController] })
class ThingsModule {}

describe('HTTP latency histogram (served app, real NATS and PostgreSQL)', () => {
  let db: TestSchema;
  let rt: ServiceRuntime;
  let app: NestFastifyApplication;
  let base: string;
  beforeAll(async () => {
    db = await createTestSchema('runtime_http');
    const config = loadConfig(BaseConfig, { DATABASE_URL: db.databaseUrl, DATABASE_SCHEMA: db.schema, NATS_NAMESPACE: `t${randomBytes(4).toString('hex')}`, LOG_LEVEL: 'silent' });
    rt = await ServiceRuntime.start({ service: 'test', config });
    app = await serve(rt, ThingsModule, { port: 0, host: '127.0.0.1' });
    base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });
  afterAll(async () => {
    await app.close();
    for (const key of ['events', 'commands', 'deadLetters'] as const) await rt.bus.jsm.streams.delete(rt.bus.streamName(key)).catch(() => false);
    await rt.shutdown();
    await db.drop();
  });

  it('observes each answered request by method, route pattern and status code; unknown paths as "unmatched"', async () => {
    for (const path of ['/things/1', '/things/2', '/things/3?x=1', '/no/such/path', '/healthz']) await (await fetch(base + path)).text();
    await (await fetch(`${base}/things/1/stream`, { headers: { accept: 'text/event-stream' } })).text();
    const { values } = (await rt.registry.getSingleMetric('steward_http_request_duration_seconds')!.get()) as unknown as { values: { metricName: string; labels: Record<string, string | number>; value: number }[] };
    const counts = values
      .filter((v) => v.metricName === 'steward_http_request_duration_seconds_count')
      .map((v): Record<string, string | number> => ({ ...v.labels, n: v.value }))
      .sort((a, b) => String(a.route).localeCompare(String(b.route)));
    expect(counts).toEqual([
      { method: 'GET', route: '/healthz', status_code: 200, n: 1 },
      { method: 'GET', route: '/things/:id', status_code: 200, n: 3 },
      { method: 'GET', route: 'unmatched', status_code: 404, n: 1 },
    ]); // the event stream is not measured
    const sum = values.find((v) => v.metricName === 'steward_http_request_duration_seconds_sum' && v.labels.route === '/things/:id')!;
    expect(sum.value).toBeGreaterThan(0);
    expect(sum.value).toBeLessThan(10);
    const text = await rt.registry.metrics();
    expect(text).toContain('steward_http_request_duration_seconds_bucket{le="2",service="test",method="GET",route="/things/:id",status_code="200"} 3');
  });
});

describe('retryConflicts (real PostgreSQL errors)', () => {
  let db: TestSchema;
  beforeAll(async () => {
    db = await createTestSchema('retry');
  });
  afterAll(async () => {
    await db.drop();
  });
  // steward_claim_runs of a run that does not exist raises serialization_failure, as for a stale cached run.
  const conflict = () => db.pool.query(`SELECT steward_claim_runs(ARRAY['no-such-run'], ARRAY[0])`);

  it('runs again at once after a serialization failure, three times in all at most, and lets other errors through', async () => {
    let calls = 0;
    let conflicts = 0;
    const onConflict = () => void conflicts++;
    const value = await retryConflicts(async () => {
      if (++calls < 3) await conflict();
      return 'done';
    }, onConflict);
    expect({ value, calls, conflicts }).toEqual({ value: 'done', calls: 3, conflicts: 2 });

    calls = 0;
    await expect(retryConflicts(async () => (++calls, await conflict()), onConflict)).rejects.toMatchObject({ code: '40001' });
    expect(calls).toBe(3);

    calls = 0;
    await expect(retryConflicts(async () => (++calls, await db.pool.query('SELECT 1/0')), onConflict)).rejects.toMatchObject({ code: '22012' });
    expect(calls).toBe(1);
  });
});
