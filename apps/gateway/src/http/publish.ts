import type { OutgoingEvent } from '@steward/contracts';
import type { ServiceRuntime } from '@steward/service-kit';
import { ApiError } from './api-error.js';

/**
 * Publishes a command or event straight to JetStream and returns once it is stored (the caller then answers 202).
 * NATS unreachable: 503, and the client may repeat the request (with the same Idempotency-Key, it publishes the same
 * id, which JetStream de-duplicates).
 */
export async function publishOr503(runtime: ServiceRuntime, event: OutgoingEvent): Promise<void> {
  try {
    await runtime.bus.publish(event);
  } catch (err) {
    runtime.log.warn({ err, type: event.envelope.type, id: event.envelope.id }, 'publish failed');
    throw new ApiError(503, 'unavailable', 'the message bus did not accept the request; retry');
  }
}
