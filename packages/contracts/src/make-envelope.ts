import { randomUUID } from 'node:crypto';
import { Catalogue, type EventData, type EventKey } from './catalogue.js';
import type { Envelope } from './envelope.js';

export interface EnvelopeContext {
  source: string;
  tenantId: string;
  correlationId: string;
  causationId?: string;
  traceparent?: string;
  subject?: string;
  /** Deterministic ids make re-emission idempotent (JetStream de-duplicates on it). */
  id?: string;
  /** When the change happened; defaults to now. A batch stamps all its events with the moment it decided them. */
  time?: Date;
}

export interface OutgoingEvent<K extends EventKey = EventKey> {
  key: K;
  subject: string;
  envelope: Envelope<EventData<K>>;
}

/**
 * Gives the trace context (a W3C traceparent) of the code creating an event: the span of the request or message
 * being handled. Installed by @steward/bus; none by default, when `ctx.traceparent` alone is used.
 */
export type TraceparentSource = (ctx: EnvelopeContext) => string | undefined;

let traceparentSource: TraceparentSource | undefined;

/** Installs (or, with undefined, removes) the source of the `traceparent` stamped on every new envelope. */
export function setTraceparentSource(source: TraceparentSource | undefined): void {
  traceparentSource = source;
}

/**
 * Validates `data` against the catalogue and wraps it in a CloudEvents envelope addressed to its subject. The
 * envelope's `traceparent` is the current request's or message's span when there is one, else `ctx.traceparent`.
 */
export function makeEvent<K extends EventKey>(key: K, data: EventData<K>, ctx: EnvelopeContext): OutgoingEvent<K> {
  const entry = Catalogue[key];
  const parsed = entry.schema.parse(data) as EventData<K>;
  const envelope: Envelope<EventData<K>> = {
    specversion: '1.0',
    id: ctx.id ?? randomUUID(),
    source: ctx.source,
    type: entry.type,
    time: (ctx.time ?? new Date()).toISOString(),
    datacontenttype: 'application/json',
    tenantid: ctx.tenantId,
    correlationid: ctx.correlationId,
    data: parsed,
  };
  if (ctx.subject !== undefined) envelope.subject = ctx.subject;
  if (ctx.causationId !== undefined) envelope.causationid = ctx.causationId;
  const traceparent = traceparentSource?.(ctx) ?? ctx.traceparent;
  if (traceparent !== undefined) envelope.traceparent = traceparent;
  return { key, subject: (entry.subject as (d: EventData<K>) => string)(parsed), envelope };
}
