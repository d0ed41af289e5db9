import { Id, type EscalationPolicy, type VerdictBasis } from '@steward/contracts';
import { z } from 'zod';

export const DecisionId = Id;
export const BatchId = Id;
export const PreferenceId = z.string().min(1).max(300);
/** A hard rule's id in the escalation policy (the policy's own limit). */
export const RuleId = z.string().min(1).max(100);

const Choice = z.string().min(1).max(100);
const AnsweredBy = z.string().min(1).max(200).default('person');

/** POST /v1/decisions/:id/answer */
export const AnswerDecisionBody = z.strictObject({ choice: Choice, answeredBy: AnsweredBy });
export type AnswerDecisionBody = z.infer<typeof AnswerDecisionBody>;

/** POST /v1/escalations/batches/:id/answers: some decisions, or every open one with its proposal (`approveAll`). */
export const AnswerBatchBody = z
  .strictObject({
    answers: z.array(z.strictObject({ decisionId: DecisionId, choice: Choice })).max(200).optional(),
    approveAll: z.literal(true).optional(),
    answeredBy: AnsweredBy,
  })
  .refine((b) => (b.answers !== undefined) !== (b.approveAll !== undefined), { message: 'give either answers or approveAll: true' });
export type AnswerBatchBody = z.infer<typeof AnswerBatchBody>;

export const BatchStatusQuery = z.strictObject({ status: z.enum(['open', 'sent', 'answered', 'expired']).default('sent'), limit: z.coerce.number().int().min(1).max(200).default(50) });
export const PolicyVersionsQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(200).default(50) });
export const DecisionListQuery = z.strictObject({
  status: z.enum(['pending', 'escalated', 'resolved', 'timed_out']).optional(),
  type: z.string().min(1).max(100).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const RevokePreferenceBody = z.strictObject({ by: z.string().min(1).max(200).default('person') });

export interface DecisionView {
  id: string;
  type: string;
  status: string;
  options: { id: string; label: string }[];
  proposal?: string;
  /** The engine's P(the person agrees with its choice), and the threshold it was held to. */
  score?: number;
  threshold?: number;
  policyVersion?: string;
  /** Why it was decided or escalated, most important first. */
  reasons: string[];
  /** What settled it in one word (absent on decisions stored before the engine said). */
  basis?: VerdictBasis;
  context: Record<string, unknown>;
  /** For an autonomous decision under review: the person is asked to check it, nothing waits. */
  review: boolean;
  reviewed: boolean;
  resolvedBy?: string;
  choice?: string;
  fallback?: string;
  fallbackAt?: string;
  batchId?: string;
  taskId?: string;
  runId?: string;
  createdAt: string;
  resolvedAt?: string;
}

export interface BatchView {
  id: string;
  recipient: string;
  status: string;
  trigger?: string;
  escalations: number;
  createdAt: string;
  sentAt?: string;
  closedAt?: string;
  decisions: DecisionView[];
}

export interface AnswersAccepted {
  requestIds: string[];
}

/** One stored version of a tenant's escalation policy (version 0: none stored yet, the defaults). */
export interface PolicyVersionView {
  version: number;
  policy: EscalationPolicy;
}

/** The policy's history, newest first. */
export interface PolicyHistoryView {
  versions: (PolicyVersionView & { createdAt: string })[];
}
