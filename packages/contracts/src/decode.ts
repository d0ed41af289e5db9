import { createHash } from 'node:crypto';
import { entryForType, subjectMatches, type CatalogueEntry } from './catalogue.js';
import { EnvelopeAttributes, type Envelope } from './envelope.js';

/** Why a message was refused at the door; becomes the dead letter's reason. */
export class InvalidMessageError extends Error {
  constructor(
    readonly reason: 'not-json' | 'bad-envelope' | 'unknown-type' | 'wrong-subject' | 'bad-data',
    message: string,
    readonly issues?: unknown,
  ) {
    super(message);
    this.name = 'InvalidMessageError';
  }
}

export interface DecodedEvent {
  entry: CatalogueEntry;
  envelope: Envelope;
}

/** Parses raw bytes from `subject` into an envelope whose data passed its catalogue schema, or throws InvalidMessageError. */
export function decodeEvent(subject: string, raw: string): DecodedEvent {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new InvalidMessageError('not-json', `payload is not JSON: ${(err as Error).message}`);
  }
  const attrs = EnvelopeAttributes.safeParse(json);
  if (!attrs.success) throw new InvalidMessageError('bad-envelope', 'envelope attributes are invalid', attrs.error.issues);
  const entry = entryForType(attrs.data.type);
  if (!entry) throw new InvalidMessageError('unknown-type', `unknown event type ${attrs.data.type}`);
  if (!subjectMatches(entry.filter, subject)) {
    throw new InvalidMessageError('wrong-subject', `type ${entry.type} does not belong on subject ${subject}`);
  }
  const data = entry.schema.safeParse((json as { data?: unknown }).data);
  if (!data.success) throw new InvalidMessageError('bad-data', `data does not match ${entry.type}`, data.error.issues);
  return { entry, envelope: { ...attrs.data, data: data.data } };
}

/** A name-based UUID (v5 layout over SHA-256): the same parts always give the same event id. */
export function deterministicId(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}
