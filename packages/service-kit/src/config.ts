import { z } from 'zod';

/** Thrown when the environment does not satisfy a service's config schema; names every offending variable. */
export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const port = z.coerce.number().int().min(0).max(65535);
const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** An empty variable counts as unset (compose files and manifests often write `VAR=`). */
const unsetIfEmpty = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema);
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

/**
 * OpenTelemetry tracing, under the standard OTEL_* names. Tracing is on when an OTLP endpoint is set (and
 * OTEL_SDK_DISABLED is not true); spans then go out as OTLP/HTTP with JSON bodies. Exporter headers
 * (OTEL_EXPORTER_OTLP_HEADERS, OTEL_EXPORTER_OTLP_TRACES_HEADERS) and TLS files are read by the exporter itself.
 */
export const TracingConfig = z.object({
  OTEL_SDK_DISABLED: unsetIfEmpty(z.stringbool().default(false)),
  /** Base URL of an OTLP/HTTP receiver; traces go to <endpoint>/v1/traces. */
  OTEL_EXPORTER_OTLP_ENDPOINT: unsetIfEmpty(httpUrl.optional()),
  /** Full URL for traces; wins over OTEL_EXPORTER_OTLP_ENDPOINT. */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: unsetIfEmpty(httpUrl.optional()),
  /** service.name of the spans; defaults to the service (gateway, orchestrator, …). */
  OTEL_SERVICE_NAME: unsetIfEmpty(z.string().min(1).optional()),
  /** Extra resource attributes, `key=value,key2=value2` (values percent-encoded). */
  OTEL_RESOURCE_ATTRIBUTES: unsetIfEmpty(z.string().regex(/^[^=,]+=[^,]*(,[^=,]+=[^,]*)*$/, 'key=value pairs separated by commas').optional()),
  OTEL_TRACES_SAMPLER: unsetIfEmpty(
    z.enum(['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio']).default('parentbased_always_on'),
  ),
  /** Sampling ratio (0..1) of the *traceidratio samplers. */
  OTEL_TRACES_SAMPLER_ARG: unsetIfEmpty(z.coerce.number().min(0).max(1).default(1)),
  /** Milliseconds between two exports of the batch span processor. */
  OTEL_BSP_SCHEDULE_DELAY: unsetIfEmpty(z.coerce.number().int().min(0).default(5000)),
  /** Spans queued for export; beyond it new spans are dropped (never blocking the service). */
  OTEL_BSP_MAX_QUEUE_SIZE: unsetIfEmpty(z.coerce.number().int().positive().default(2048)),
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: unsetIfEmpty(z.coerce.number().int().positive().default(512)),
  OTEL_BSP_EXPORT_TIMEOUT: unsetIfEmpty(z.coerce.number().int().positive().default(30_000)),
});
export type TracingConfig = z.infer<typeof TracingConfig>;

/** Variables every service reads. Secrets are listed in SECRET_VARIABLES and never logged. */
export const BaseConfig = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: logLevel.default('info'),
  NATS_URL: z.string().min(1).default('nats://127.0.0.1:4222'),
  /** Prefix for streams and subjects; lets tests and several installations share a NATS server. */
  NATS_NAMESPACE: z.string().regex(/^[A-Za-z0-9_-]*$/, 'letters, digits, _ and - only').default(''),
  /**
   * Replicas of each JetStream stream, applied when the streams are created and at every start (1 on a single
   * server; 3 on a three-server cluster). Every service provisions the streams: set the same value everywhere.
   */
  NATS_STREAM_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgresql:// URL' }).default('postgresql://postgres:postgres@127.0.0.1:5432/steward'),
  DATABASE_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'a lowercase PostgreSQL identifier').default('public'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  /** Repeated SQL as named prepared statements (off behind a pooler in transaction mode that cannot keep them). */
  DATABASE_PREPARED_STATEMENTS: z.stringbool().default(true),
  EVENTS_MAX_AGE_DAYS: z.coerce.number().positive().default(30),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(25_000),
  /** Days an inbox record (consumer, event id) is kept to recognise redeliveries. */
  INBOX_RETENTION_DAYS: z.coerce.number().int().min(1).default(7),
  ...TracingConfig.shape,
});
export type BaseConfig = z.infer<typeof BaseConfig>;

export const withHttpPort = (defaultPort: number) => z.object({ HTTP_PORT: port.default(defaultPort), HTTP_HOST: z.string().default('127.0.0.1') });
export const RedisConfig = z.object({ REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'must be a redis:// URL' }).default('redis://127.0.0.1:6379') });

export const SECRET_VARIABLES = new Set(['DATABASE_URL', 'REDIS_URL', 'NATS_URL', 'ANTHROPIC_API_KEY', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']);

/** Parses the environment once into a typed config; the only place a service reads process.env. */
export function loadConfig<T extends z.ZodType>(schema: T, env: Record<string, string | undefined> = process.env): z.infer<T> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  throw new ConfigError(parsed.error.issues.map((i) => ({ variable: i.path.map(String).join('.') || '(root)', message: i.message })));
}

/** The config with secret values masked (URLs keep their host so operators can see where they point). */
export function redactConfig(config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    if (!SECRET_VARIABLES.has(k) || typeof v !== 'string') out[k] = v;
    else {
      try {
        const u = new URL(v);
        out[k] = `${u.protocol}//${u.username ? '***@' : ''}${u.host}${u.pathname}`;
      } catch {
        out[k] = '***';
      }
    }
  }
  return out;
}
