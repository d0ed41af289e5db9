// Trace context across the bus, and the ids every log line written while handling a message or request carries.
//
// A scope (AsyncLocalStorage) is opened for each handled message and each traced HTTP request. It holds the
// envelope(s) being handled and the traceparent that events created inside it take: the consumer's or server's
// span when tracing is on, else the traceparent that came in (so a service without tracing passes the trace on).
// makeEvent reads it through setTraceparentSource, so handlers need no changes; the logger's mixin reads it too.
//
// Tracing is off until setBusTracer() is given a tracer (service-kit does it when an OTLP endpoint is configured).
// Off, nothing here creates a span: publishing costs one comparison, making an event one getStore(), handling a
// message one small object and one AsyncLocalStorage.run. The scopes (for the log ids, on or off) keep Node's async
// hooks enabled, which on Node 20 costs every promise of the process a little (about 0.6 µs measured here).
import { AsyncLocalStorage } from 'node:async_hooks';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, isSpanContextValid, trace, type Attributes, type Context, type Span, type SpanContext, type Tracer } from '@opentelemetry/api';
import { setTraceparentSource, type Envelope, type EnvelopeContext } from '@steward/contracts';

// ─── W3C traceparent ───

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** The span context of a W3C `traceparent` value (remote), or undefined when it is missing or invalid. */
export function parseTraceparent(value: string | undefined): SpanContext | undefined {
  if (value === undefined) return undefined;
  const m = TRACEPARENT.exec(value.trim());
  if (!m || m[1] === 'ff' || (m[1] === '00' && m[5] !== undefined)) return undefined;
  const sc: SpanContext = { traceId: m[2]!, spanId: m[3]!, traceFlags: parseInt(m[4]!, 16) & 0xff, isRemote: true };
  return isSpanContextValid(sc) ? sc : undefined;
}

/** The W3C `traceparent` value of a span context. */
export function formatTraceparent(sc: SpanContext): string {
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

// ─── the tracer (undefined: tracing off) ───

let tracer: Tracer | undefined;

/** Turns bus tracing on with `t` (producer and consumer spans, HTTP server spans in service-kit), or off with undefined. */
export function setBusTracer(t: Tracer | undefined): void {
  tracer = t;
}

/** The tracer when tracing is on; undefined when off (the one check hot paths make). */
export function busTracer(): Tracer | undefined {
  return tracer;
}

// ─── scopes ───

/** Ids added to every log line written inside a scope. */
export type LogFields = Readonly<Record<string, string | number>>;

/** The fields outside any scope (one shared empty object). */
export const NO_LOG_FIELDS: LogFields = Object.freeze({});

/** Where a batch's events take their trace context: the handled message of the same task, else their cause. */
interface BatchTrace {
  envelopes: readonly Envelope[];
  traceparents: readonly (string | undefined)[];
  byCorrelation?: Map<string, string>;
  byEvent?: Map<string, string>;
}

/** One handled message, batch of messages or HTTP request. */
export class TraceScope {
  private fields: LogFields | undefined;
  private extra: Record<string, string> | undefined;

  private constructor(
    /** The traceparent events created in this scope take (single message or request). */
    readonly traceparent: string | undefined,
    private readonly envelope: Envelope | undefined,
    private readonly batch: BatchTrace | undefined,
    /** The OTel context handlers run in (the span's); undefined when tracing is off. */
    readonly otelContext: Context | undefined,
    /** The consumer or server span; undefined when tracing is off. */
    readonly span: Span | undefined,
  ) {}

  /** A handled message; `traceparent` is its consumer span's when tracing is on, else the one it came with. */
  static message(envelope: Envelope, traceparent: string | undefined, otelContext?: Context, span?: Span): TraceScope {
    return new TraceScope(traceparent, envelope, undefined, otelContext, span);
  }

  /** Messages handled together; `traceparents[i]` belongs to `envelopes[i]`. */
  static batch(envelopes: readonly Envelope[], traceparents: readonly (string | undefined)[]): TraceScope {
    return new TraceScope(undefined, undefined, { envelopes, traceparents }, undefined, undefined);
  }

  /** An HTTP request (its server span's traceparent, or the caller's when tracing is off). */
  static request(traceparent: string | undefined, otelContext?: Context, span?: Span): TraceScope {
    return new TraceScope(traceparent, undefined, undefined, otelContext, span);
  }

  get isBatch(): boolean {
    return this.batch !== undefined;
  }

  /** The traceparent for an event created in this scope with `ctx`. */
  traceparentFor(ctx: EnvelopeContext): string | undefined {
    const b = this.batch;
    if (b === undefined) return this.traceparent;
    if (b.byCorrelation === undefined) {
      b.byCorrelation = new Map();
      b.byEvent = new Map();
      b.envelopes.forEach((e, i) => {
        const tp = b.traceparents[i];
        if (tp === undefined) return;
        b.byCorrelation!.set(e.correlationid, tp);
        b.byEvent!.set(e.id, tp);
      });
    }
    return b.byCorrelation.get(ctx.correlationId) ?? (ctx.causationId !== undefined ? b.byEvent!.get(ctx.causationId) : undefined);
  }

  /** Adds fields to the log lines written in this scope from now on (e.g. the task a request created). */
  annotate(fields: Record<string, string>): void {
    this.extra = { ...this.extra, ...fields };
    this.fields = undefined;
  }

  /** The ids for log lines: task, run, step, invocation, trace and span (computed on the first line, then kept). */
  logFields(): LogFields {
    return (this.fields ??= this.computeFields());
  }

  private computeFields(): LogFields {
    let out: Record<string, string | number>;
    if (this.batch !== undefined) {
      const each = this.batch.envelopes.map((e, i) => envelopeFields(e, this.batch!.traceparents[i]));
      out = { batchSize: each.length };
      // A field goes on the line when every message of the batch agrees on it (usually: one task's events).
      for (const key of Object.keys(each[0] ?? {})) {
        const v = each[0]![key];
        if (v !== undefined && each.every((f) => f[key] === v)) out[key] = v;
      }
    } else if (this.envelope !== undefined) {
      out = envelopeFields(this.envelope, this.traceparent);
    } else {
      out = traceFields(this.traceparent, {});
    }
    if (this.extra) Object.assign(out, this.extra);
    return Object.keys(out).length === 0 ? NO_LOG_FIELDS : out;
  }
}

function envelopeFields(e: Envelope, traceparent: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const d = (typeof e.data === 'object' && e.data !== null ? e.data : {}) as Record<string, unknown>;
  if (typeof d.taskId === 'string') out.taskId = d.taskId;
  else out.correlationId = e.correlationid;
  if (typeof d.runId === 'string') out.runId = d.runId;
  if (typeof d.stepRunId === 'string') out.stepId = d.stepRunId;
  if (typeof d.invocationId === 'string') out.invocationId = d.invocationId;
  out.eventId = e.id;
  return traceFields(traceparent, out);
}

function traceFields(traceparent: string | undefined, out: Record<string, string>): Record<string, string> {
  // A traceparent here was validated (an envelope's by its schema, others by parseTraceparent or formatTraceparent).
  if (traceparent !== undefined && traceparent.length >= 55) {
    out.traceId = traceparent.slice(3, 35);
    out.spanId = traceparent.slice(36, 52);
  }
  return out;
}

const storage = new AsyncLocalStorage<TraceScope>();

/** The scope of the message or request being handled, if any. */
export function currentScope(): TraceScope | undefined {
  return storage.getStore();
}

/** The log ids of the current scope (an empty object outside any). Used by the logger's mixin. */
export function currentLogFields(): LogFields {
  return storage.getStore()?.logFields() ?? NO_LOG_FIELDS;
}

/** Adds fields to every log line written from now on in the current message's or request's scope; no-op outside one. */
export function addLogContext(fields: Record<string, string>): void {
  storage.getStore()?.annotate(fields);
}

/**
 * Runs `fn` outside any scope (and any span). For timers and loops that a handler or request starts or wakes but
 * that outlive it (sweeps, relays): created inside the scope, they would carry its ids and trace context into work
 * that is not its own.
 */
export function outsideScope<T>(fn: () => T): T {
  return storage.exit(() => (tracer === undefined ? fn() : context.with(ROOT_CONTEXT, fn)));
}

/** Runs `fn` in `scope` (and, when tracing is on, in its span's OTel context). */
export function runInScope<T>(scope: TraceScope, fn: () => T): T {
  const ctx = scope.otelContext;
  return ctx === undefined ? storage.run(scope, fn) : context.with(ctx, () => storage.run(scope, fn));
}

/**
 * The traceparent of an event being made: tracing on, the active span's (the consumer or server span, or a span the
 * handler started inside it), except in a batch, where each event takes the span of the message of its task; off,
 * the scope's (the traceparent that came in).
 */
function traceparentOfNewEvent(ctx: EnvelopeContext): string | undefined {
  const scope = storage.getStore();
  if (tracer !== undefined && (scope === undefined || !scope.isBatch)) {
    const sc = trace.getSpanContext(context.active());
    if (sc !== undefined && isSpanContextValid(sc)) return formatTraceparent(sc);
  }
  return scope?.traceparentFor(ctx);
}

// Every event made while a message or request is handled carries its trace context.
setTraceparentSource(traceparentOfNewEvent);

// ─── spans ───

const SYSTEM = 'nats';

/** Attributes shared by producer and consumer spans (OTel messaging conventions, plus Steward's ids). */
function envelopeAttributes(e: Envelope, subject: string): Attributes {
  const d = (typeof e.data === 'object' && e.data !== null ? e.data : {}) as Record<string, unknown>;
  const a: Attributes = {
    'messaging.system': SYSTEM,
    'messaging.destination.name': subject,
    'messaging.message.id': e.id,
    'messaging.message.conversation_id': e.correlationid,
    'cloudevents.event_id': e.id,
    'cloudevents.event_type': e.type,
    'cloudevents.event_source': e.source,
    'steward.tenant_id': e.tenantid,
  };
  if (typeof d.taskId === 'string') a['steward.task_id'] = d.taskId;
  if (typeof d.runId === 'string') a['steward.run_id'] = d.runId;
  if (typeof d.stepRunId === 'string') a['steward.step_run_id'] = d.stepRunId;
  if (typeof d.invocationId === 'string') a['steward.invocation_id'] = d.invocationId;
  return a;
}

/**
 * Opens the scope for handling one message. Tracing on (`t`): a CONSUMER span, child of the message's traceparent
 * (its NATS header, else the envelope's), whose context the handler's events carry. Off: the envelope's traceparent
 * passes on, and the scope is the only allocation.
 */
export function startConsume(t: Tracer | undefined, envelope: Envelope, subject: string, consumer: string, deliveryCount: number, headerTraceparent: string | undefined): TraceScope {
  if (t === undefined) return TraceScope.message(envelope, envelope.traceparent);
  const span = startConsumerSpan(t, envelope, subject, consumer, deliveryCount, headerTraceparent);
  return TraceScope.message(envelope, formatTraceparent(span.spanContext()), trace.setSpan(ROOT_CONTEXT, span), span);
}

/** Opens the scope for messages handled together (one transaction): with tracing on, one consumer span per message. */
export function startConsumeBatch(
  t: Tracer | undefined,
  envelopes: readonly Envelope[],
  consumer: string,
  messageInfo: (i: number) => { subject: string; deliveryCount: number; headerTraceparent: string | undefined },
): { scope: TraceScope; spans: Span[] | undefined } {
  if (t === undefined) return { scope: TraceScope.batch(envelopes, envelopes.map((e) => e.traceparent)), spans: undefined };
  const spans = envelopes.map((envelope, i) => {
    const m = messageInfo(i);
    const span = startConsumerSpan(t, envelope, m.subject, consumer, m.deliveryCount, m.headerTraceparent);
    span.setAttribute('messaging.batch.message_count', envelopes.length);
    return span;
  });
  return { scope: TraceScope.batch(envelopes, spans.map((s) => formatTraceparent(s.spanContext()))), spans };
}

function startConsumerSpan(t: Tracer, envelope: Envelope, subject: string, consumer: string, deliveryCount: number, headerTraceparent: string | undefined): Span {
  const parent = parseTraceparent(headerTraceparent ?? envelope.traceparent);
  const parentContext = parent ? trace.setSpanContext(ROOT_CONTEXT, parent) : ROOT_CONTEXT;
  const attributes = envelopeAttributes(envelope, subject);
  attributes['messaging.operation.type'] = 'process';
  attributes['messaging.operation.name'] = 'process';
  attributes['messaging.consumer.group.name'] = consumer;
  attributes['steward.delivery_count'] = deliveryCount;
  return t.startSpan(`process ${subject}`, { kind: SpanKind.CONSUMER, attributes }, parentContext);
}

/** Ends a consumer span: `outcome` is 'ok', or why the message was not (retry, dead letter) with the error. */
export function endSpan(span: Span | undefined, outcome: 'ok' | 'retry' | 'dead_letter', err?: unknown): void {
  if (span === undefined) return;
  span.setAttribute('steward.outcome', outcome);
  if (err !== undefined) recordError(span, err);
  span.end();
}

function recordError(span: Span, err: unknown): void {
  const message = err instanceof Error ? err.message : typeof err === 'string' ? err : JSON.stringify(err);
  span.recordException(err instanceof Error ? err : message);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}

/**
 * A PRODUCER span around one publish, child of the message's traceparent (the context the event was created in,
 * kept in the outbox) or else of the active span; no span when there is neither. The message keeps its headers:
 * the NATS header and the envelope's `traceparent` stay equal, so a consumer's parent is the event's creator.
 */
export async function tracePublish<R extends { stream: string; duplicate: boolean }>(t: Tracer, subject: string, msgId: string, headerTraceparent: string | undefined, publish: () => Promise<R>): Promise<R> {
  const parent = parseTraceparent(headerTraceparent) ?? trace.getSpanContext(context.active());
  if (parent === undefined) return publish();
  const span = t.startSpan(
    `publish ${subject}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: { 'messaging.system': SYSTEM, 'messaging.operation.type': 'send', 'messaging.operation.name': 'publish', 'messaging.destination.name': subject, 'messaging.message.id': msgId },
    },
    trace.setSpanContext(ROOT_CONTEXT, parent),
  );
  try {
    const r = await publish();
    span.setAttribute('steward.stream', r.stream);
    if (r.duplicate) span.setAttribute('steward.duplicate', true);
    return r;
  } catch (err) {
    recordError(span, err);
    throw err;
  } finally {
    span.end();
  }
}
