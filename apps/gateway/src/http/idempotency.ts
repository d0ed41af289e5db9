import { createHash } from 'node:crypto';
import { z } from 'zod';

/** The `Idempotency-Key` header: 1 to 255 printable ASCII characters, no spaces, scoped to the tenant. */
export const IdempotencyKey = z.string().min(1).max(255).regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

/**
 * A name-based (version 5 layout) UUID from `parts`: the same parts always give the same id. Commands and events
 * published for a request that carries an Idempotency-Key take their id from it (with the tenant and what the
 * request targets), so a repeated request publishes the same id, which JetStream and the consumers' inboxes drop.
 */
export function derivedUuid(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
