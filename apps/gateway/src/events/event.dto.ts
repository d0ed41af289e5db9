import { ExternalEventV1 } from '@steward/contracts';
import { z } from 'zod';

/** POST /v1/events body: a named event from outside; wait steps waiting for `name` (and `key`, if they give one) resume. */
export const PublishEventBody = z.strictObject({
  name: ExternalEventV1.shape.name,
  key: ExternalEventV1.shape.key,
  data: z.unknown().optional(),
});
export type PublishEventBody = z.infer<typeof PublishEventBody>;

export interface EventAccepted {
  eventId: string;
}
