// ─── Crosses the wire (HTTP and the database): a tenant's escalation policy, versioned; each PUT is a new version. ───
import { z } from 'zod';

const JsonScalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** A hard rule: decisions that match it always (or never) escalate, whatever the score says. */
export const EscalationRule = z
  .object({
    id: z.string().min(1).max(100),
    when: z
      .object({
        /** A decision type, or a glob such as `deploy.*`. */
        type: z.string().min(1).max(100).optional(),
        /** Context fields that must equal these values. */
        context: z.record(z.string(), JsonScalar).optional(),
      })
      .strict(),
    action: z.enum(['always_escalate', 'never_escalate']),
  })
  .strict();
export type EscalationRule = z.infer<typeof EscalationRule>;

/** What a tenant sets: the threshold policy, audits, batching and hard rules. Omitted fields take the defaults. */
export const EscalationPolicy = z
  .object({
    /** risk: autonomous error ≤ alpha with probability ≥ 1 − delta; budget: at most `budget` of decisions escalated. */
    mode: z.enum(['risk', 'budget']).default('risk'),
    alpha: z.number().gt(0).lt(1).default(0.02),
    delta: z.number().gt(0).lt(1).default(0.05),
    budget: z.number().gt(0).lt(1).default(0.05),
    /** Share of autonomous decisions sent to the person as a non-blocking review. */
    auditRate: z.number().min(0).max(1).default(0.03),
    /** A batch is sent when it holds this many escalations … */
    batchSize: z.number().int().min(1).max(100).default(5),
    /** … or its oldest escalation has waited this long (ms), or a critical one arrives. */
    batchTimeoutMs: z.number().int().min(0).max(7 * 24 * 3600 * 1000).default(300_000),
    /** Irreversible and critical decisions always escalate unless these allow them (or a never_escalate rule matches). */
    allowIrreversible: z.boolean().default(false),
    allowCritical: z.boolean().default(false),
    rules: z.array(EscalationRule).max(500).default([]),
  })
  .strict();
export type EscalationPolicy = z.infer<typeof EscalationPolicy>;
export type EscalationPolicyInput = z.input<typeof EscalationPolicy>;
