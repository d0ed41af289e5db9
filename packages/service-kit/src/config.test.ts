import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BaseConfig, ConfigError, loadConfig, redactConfig, withHttpPort } from './config.js';

describe('loadConfig', () => {
  const Schema = BaseConfig.extend(withHttpPort(8080).shape);

  it('applies defaults and coerces numbers', () => {
    const c = loadConfig(Schema, { HTTP_PORT: '9000' });
    expect(c.HTTP_PORT).toBe(9000);
    expect(c.NATS_URL).toBe('nats://127.0.0.1:4222');
  });

  it('names every bad variable in one error', () => {
    let err: unknown;
    try {
      loadConfig(Schema, { HTTP_PORT: 'eighty', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const vars = (err as ConfigError).problems.map((p) => p.variable).sort();
    expect(vars).toEqual(['DATABASE_URL', 'HTTP_PORT', 'LOG_LEVEL']);
    expect((err as ConfigError).message).toContain('DATABASE_URL: must be a postgresql:// URL');
  });

  it('reads NATS_STREAM_REPLICAS as an integer from 1 to 5, 1 by default', () => {
    expect(loadConfig(Schema, {}).NATS_STREAM_REPLICAS).toBe(1);
    expect(loadConfig(Schema, { NATS_STREAM_REPLICAS: '3' }).NATS_STREAM_REPLICAS).toBe(3);
    for (const bad of ['0', '6', '2.5', 'three']) expect(() => loadConfig(Schema, { NATS_STREAM_REPLICAS: bad }), bad).toThrow(/NATS_STREAM_REPLICAS/);
  });

  it('reports a missing required variable by name', () => {
    expect(() => loadConfig(z.object({ ANTHROPIC_API_KEY: z.string() }), {})).toThrow(/ANTHROPIC_API_KEY/);
  });

  it('masks secrets but keeps where they point', () => {
    const r = redactConfig({ DATABASE_URL: 'postgresql://u:pw@db:5432/steward', NATS_URL: 'nats://x:4222' });
    expect(r.DATABASE_URL).toBe('postgresql://***@db:5432/steward');
    expect(JSON.stringify(r)).not.toContain('pw');
    expect(r.NATS_URL).toBe('nats://x:4222');
  });
});
