import { createTestSchema, type TestSchema } from '@steward/state';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BaseConfig, RedisConfig, loadConfig } from './config.js';
import { ServiceRuntime } from './runtime.js';

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
