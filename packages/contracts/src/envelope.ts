// ─── Crosses the wire: every message on the bus is one of these envelopes. Changing a field is a breaking change. ───
import { z } from 'zod';

/** W3C trace context header value: version-traceid-parentid-flags. */
export const TraceParent = z.string().regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/);

/** CloudEvents 1.0 attributes plus Steward's extensions; `data` is checked by the catalogue entry of `type`. */
export const EnvelopeAttributes = z.object({
  specversion: z.literal('1.0'),
  id: z.uuid(),
  source: z.string().min(1),
  type: z.string().regex(/^steward\.[a-z0-9.]+\.v\d+$/),
  time: z.iso.datetime({ offset: true }),
  subject: z.string().min(1).optional(),
  datacontenttype: z.literal('application/json'),
  dataschema: z.string().optional(),
  tenantid: z.string().min(1),
  correlationid: z.string().min(1),
  causationid: z.string().min(1).optional(),
  traceparent: TraceParent.optional(),
});
export type EnvelopeAttributes = z.infer<typeof EnvelopeAttributes>;

export const Envelope = EnvelopeAttributes.extend({ data: z.unknown() });
export type Envelope<TData = unknown> = EnvelopeAttributes & { data: TData };
