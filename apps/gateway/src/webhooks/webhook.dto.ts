import { z } from 'zod';
import { isEventSelector } from '../audit/event-log.js';

/** POST /v1/webhooks */
export const CreateWebhookBody = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).max(2000),
  /** Event names (`escalation.batch.ready`, any version) or full CloudEvents types (`steward.task.completed.v1`). */
  events: z
    .array(z.string().refine(isEventSelector, { error: 'not an event of the audit stream (e.g. escalation.batch.ready or steward.task.completed.v1)' }))
    .min(1)
    .max(50)
    .transform((a) => [...new Set(a)]),
  description: z.string().max(500).default(''),
});
export type CreateWebhookBody = z.infer<typeof CreateWebhookBody>;

export const WebhookId = z.uuid();

export const WebhookDelivery = z.object({
  at: z.iso.datetime().describe('When the last attempt was made.'),
  status: z.enum(['delivered', 'retrying', 'failed']).describe('Its outcome: delivered (2xx), retrying (will be tried again), failed (given up, or refused by the address guard).'),
  statusCode: z.number().int().nullable().describe("The endpoint's HTTP status; null when there was no answer."),
  error: z.string().nullable(),
  eventId: z.string().nullable().describe('The event (and webhook-id) of that attempt.'),
  lastSuccessAt: z.iso.datetime().nullable(),
  consecutiveFailures: z.number().int().nonnegative(),
});

export const WebhookView = z.object({
  id: z.uuid(),
  url: z.string(),
  events: z.array(z.string()),
  description: z.string(),
  createdAt: z.iso.datetime(),
  lastDelivery: WebhookDelivery.nullable().describe('The last delivery attempt; null before the first.'),
});
export type WebhookView = z.infer<typeof WebhookView>;

/** POST /v1/webhooks answers the endpoint with its signing secret, shown this once. */
export const CreatedWebhook = WebhookView.extend({ secret: z.string().describe('The Standard Webhooks signing secret (`whsec_…`); shown only here.') });
export type CreatedWebhook = z.infer<typeof CreatedWebhook>;

export const WebhookList = z.object({ webhooks: z.array(WebhookView) });
export type WebhookList = z.infer<typeof WebhookList>;
