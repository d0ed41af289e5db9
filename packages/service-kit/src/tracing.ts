// OpenTelemetry tracing: on when an OTLP endpoint is configured, off (no provider, no spans) otherwise.
// The SDK is imported only when tracing is on: a service without it loads none of it (start-up time, memory).
import { DiagLogLevel, context, diag, propagation, trace } from '@opentelemetry/api';
import type { Sampler, SpanExporter, TracerProvider } from '@opentelemetry/sdk-trace';
import { setBusTracer } from '@steward/bus';
import { hostname } from 'node:os';
import type { TracingConfig } from './config.js';
import type { PinoLogger } from './logger.js';

export interface TracingOptions {
  /** The service's name (service.name unless OTEL_SERVICE_NAME is set). */
  service: string;
  config: TracingConfig;
  /** Where OTel's own warnings (a failed export) go. */
  log?: PinoLogger;
  /** Tests: export here (e.g. an InMemorySpanExporter) instead of OTLP, tracing on whatever the config says. */
  exporter?: SpanExporter;
  /** Tests: export each span as it ends instead of in batches. */
  simple?: boolean;
}

/** Tracing while it is on: flush before a test reads the spans, shut down (flushing) at exit. */
export interface Tracing {
  /** Where spans go: the OTLP URL, or 'custom exporter'. */
  readonly destination: string;
  readonly provider: TracerProvider;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** The OTLP/HTTP URL traces go to, or undefined when none is configured. */
export function tracesEndpoint(config: TracingConfig): string | undefined {
  if (config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const base = config.OTEL_EXPORTER_OTLP_ENDPOINT;
  return base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined;
}

let active: Tracing | undefined;

/**
 * Starts tracing if it is configured and returns it; returns undefined (and loads and registers nothing) when not.
 * Registers the tracer provider, the W3C trace-context propagator and an AsyncLocalStorage context manager
 * globally, and hands a tracer to the bus (producer and consumer spans) and to the HTTP hooks (server spans).
 */
export async function initTracing(opts: TracingOptions): Promise<Tracing | undefined> {
  const { config } = opts;
  const url = tracesEndpoint(config);
  if (opts.exporter === undefined && (config.OTEL_SDK_DISABLED || url === undefined)) return undefined;
  if (active) throw new Error('tracing is already initialised in this process; shut it down first');
  const [{ AsyncLocalStorageContextManager }, { W3CTraceContextPropagator }, { OTLPTraceExporter }, { resourceFromAttributes }, sdk, { ATTR_SERVICE_NAME }] = await Promise.all([
    import('@opentelemetry/context-async-hooks'),
    import('@opentelemetry/core'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/semantic-conventions'),
  ]);
  const { BatchSpanProcessor, SimpleSpanProcessor, TracerProvider } = sdk;

  if (opts.log) {
    const log = opts.log.child({ component: 'otel' });
    diag.setLogger({ error: (m, ...a) => log.warn({ args: a }, m), warn: (m, ...a) => log.warn({ args: a }, m), info() {}, debug() {}, verbose() {} }, DiagLogLevel.WARN);
  }
  const exporter = opts.exporter ?? new OTLPTraceExporter({ url: url!, timeoutMillis: config.OTEL_BSP_EXPORT_TIMEOUT });
  const processor = opts.simple
    ? new SimpleSpanProcessor({ exporter })
    : new BatchSpanProcessor({
        exporter,
        scheduledDelayMillis: config.OTEL_BSP_SCHEDULE_DELAY,
        maxQueueSize: config.OTEL_BSP_MAX_QUEUE_SIZE,
        maxExportBatchSize: Math.min(config.OTEL_BSP_MAX_EXPORT_BATCH_SIZE, config.OTEL_BSP_MAX_QUEUE_SIZE),
        exportTimeoutMillis: config.OTEL_BSP_EXPORT_TIMEOUT,
      });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      'service.namespace': 'steward',
      'service.instance.id': `${hostname()}:${process.pid}`,
      ...parseResourceAttributes(config.OTEL_RESOURCE_ATTRIBUTES),
      [ATTR_SERVICE_NAME]: config.OTEL_SERVICE_NAME ?? opts.service,
    }),
    sampler: sampler(sdk, config),
    spanProcessors: [processor],
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  setBusTracer(provider.getTracer('@steward/bus'));

  let stopped: Promise<void> | undefined;
  const tracing: Tracing = {
    destination: opts.exporter ? 'custom exporter' : url!,
    provider,
    forceFlush: () => provider.forceFlush(),
    shutdown() {
      stopped ??= (async () => {
        setBusTracer(undefined);
        try {
          await provider.shutdown(); // flushes what is queued
        } finally {
          trace.disable();
          propagation.disable();
          context.disable();
          diag.disable();
          active = undefined;
        }
      })();
      return stopped;
    },
  };
  active = tracing;
  return tracing;
}

function sampler(sdk: typeof import('@opentelemetry/sdk-trace'), config: TracingConfig): Sampler {
  const { AlwaysOffSampler, AlwaysOnSampler, ParentBasedSampler, TraceIdRatioBasedSampler } = sdk;
  const ratio = new TraceIdRatioBasedSampler(config.OTEL_TRACES_SAMPLER_ARG);
  switch (config.OTEL_TRACES_SAMPLER) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio;
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio });
  }
}

/** `key=value,key2=value2` (W3C baggage-like, values percent-encoded) as attributes. */
export function parseResourceAttributes(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of raw?.split(',') ?? []) {
    const i = pair.indexOf('=');
    if (i <= 0) continue;
    const key = pair.slice(0, i).trim();
    const value = pair.slice(i + 1).trim();
    try {
      out[key] = decodeURIComponent(value);
    } catch {
      out[key] = value;
    }
  }
  return out;
}
