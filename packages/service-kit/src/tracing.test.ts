import { formatTraceparent, parseTraceparent } from '@steward/bus';
import { describe, expect, it } from 'vitest';
import { BaseConfig, ConfigError, TracingConfig, loadConfig, redactConfig } from './config.js';
import { parseResourceAttributes, tracesEndpoint } from './tracing.js';

describe('tracing config', () => {
  it('is off by default and treats empty variables as unset', () => {
    const c = loadConfig(TracingConfig, { OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_SDK_DISABLED: '', OTEL_BSP_SCHEDULE_DELAY: '' });
    expect(tracesEndpoint(c)).toBeUndefined();
    expect(c.OTEL_SDK_DISABLED).toBe(false);
    expect(c.OTEL_BSP_SCHEDULE_DELAY).toBe(5000);
    expect(c.OTEL_TRACES_SAMPLER).toBe('parentbased_always_on');
  });

  it('sends traces to <endpoint>/v1/traces, or to the traces endpoint as given', () => {
    expect(tracesEndpoint(loadConfig(TracingConfig, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }))).toBe('http://collector:4318/v1/traces');
    expect(tracesEndpoint(loadConfig(TracingConfig, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/base/' }))).toBe('http://collector:4318/base/v1/traces');
    expect(tracesEndpoint(loadConfig(TracingConfig, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://b/x' }))).toBe('https://b/x');
  });

  it('names every bad OTEL_ variable, and masks endpoint credentials in the start-up log', () => {
    let err: unknown;
    try {
      loadConfig(BaseConfig, { OTEL_EXPORTER_OTLP_ENDPOINT: 'grpc://x:4317', OTEL_TRACES_SAMPLER: 'sometimes', OTEL_TRACES_SAMPLER_ARG: '2', OTEL_SDK_DISABLED: 'maybe' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems.map((p) => p.variable).sort()).toEqual(['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_SDK_DISABLED', 'OTEL_TRACES_SAMPLER', 'OTEL_TRACES_SAMPLER_ARG']);
    const c = loadConfig(BaseConfig, { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://user:secret@otel.example:4318', OTEL_SDK_DISABLED: 'true' });
    expect(c.OTEL_SDK_DISABLED).toBe(true);
    expect(JSON.stringify(redactConfig(c))).not.toContain('secret');
  });

  it('parses OTEL_RESOURCE_ATTRIBUTES', () => {
    expect(parseResourceAttributes('deployment.environment=prod,team=a%20b')).toEqual({ 'deployment.environment': 'prod', team: 'a b' });
    expect(parseResourceAttributes(undefined)).toEqual({});
  });
});

describe('traceparent', () => {
  it('parses valid values, refuses invalid ones, and formats back', () => {
    const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const sc = parseTraceparent(tp)!;
    expect(sc).toMatchObject({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1, isRemote: true });
    expect(formatTraceparent(sc)).toBe(tp);
    expect(parseTraceparent(`${tp}-extra`)).toBeUndefined(); // version 00 has exactly four fields
    expect(formatTraceparent(parseTraceparent('01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00-later')!)).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00');
    for (const bad of [undefined, '', 'garbage', 'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', '00-00000000000000000000000000000000-b7ad6b7169203331-01', '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01', '00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01'])
      expect(parseTraceparent(bad), String(bad)).toBeUndefined();
  });
});
