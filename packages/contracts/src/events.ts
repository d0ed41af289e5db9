// ─── Crosses the wire: the data schema of every event and command. A breaking change is a NEW versioned schema; never edit a published one. ───
import { z } from 'zod';
import { ErrorInfo, Id, JsonObject, Requester, SkillCategory, SkillName, WorkflowName } from './common.js';

// Tasks (owner: orchestrator; task.submitted is emitted by the gateway).
export const TaskSubmittedV1 = z.object({
  taskId: Id,
  tenantId: Id,
  sessionId: Id.optional(),
  target: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('skill'), skill: SkillName }),
    z.object({ kind: z.literal('workflow'), workflow: WorkflowName, version: z.number().int().positive() }),
  ]),
  input: JsonObject,
  submittedAt: z.iso.datetime({ offset: true }),
});
export type TaskSubmittedV1 = z.infer<typeof TaskSubmittedV1>;

export const TaskStartedV1 = z.object({ taskId: Id, startedAt: z.iso.datetime({ offset: true }) });
export type TaskStartedV1 = z.infer<typeof TaskStartedV1>;

/**
 * An output too large for the bus (SKILL_OUTPUT_INLINE_MAX_BYTES), stored once in PostgreSQL (`skill_outputs`, and
 * on the task or step run row); the event's `output` is then null. Read it with GET /v1/tasks/:id or /v1/runs/:id.
 */
export const OutputRef = z.object({ id: Id, bytes: z.number().int().positive(), sha256: z.string().regex(/^[0-9a-f]{64}$/) });
export type OutputRef = z.infer<typeof OutputRef>;

export const TaskCompletedV1 = z.object({ taskId: Id, output: z.unknown(), outputRef: OutputRef.optional(), completedAt: z.iso.datetime({ offset: true }) });
export type TaskCompletedV1 = z.infer<typeof TaskCompletedV1>;

export const TaskFailedV1 = z.object({ taskId: Id, error: ErrorInfo, failedAt: z.iso.datetime({ offset: true }) });
export type TaskFailedV1 = z.infer<typeof TaskFailedV1>;

export const TaskCancelledV1 = z.object({ taskId: Id, reason: z.string(), cancelledAt: z.iso.datetime({ offset: true }) });
export type TaskCancelledV1 = z.infer<typeof TaskCancelledV1>;

/**
 * Cancel a task (from the gateway API; the orchestrator carries it out). A single-skill task is cancelled at once and
 * its running invocation told to stop; a workflow task's root run is cancelled, and the task follows it. `requestId`
 * makes a repeated request harmless.
 */
export const TaskCancelV1 = z.object({ requestId: Id, tenantId: Id, taskId: Id, reason: z.string().max(2000).default('cancelled') });
export type TaskCancelV1 = z.infer<typeof TaskCancelV1>;

// Workflow runs (owner: workflow-runner; started by the workflow.start command from the orchestrator).
export const WorkflowStartV1 = z.object({
  runId: Id,
  taskId: Id,
  tenantId: Id,
  workflow: WorkflowName,
  version: z.number().int().positive(),
  input: JsonObject,
});
export type WorkflowStartV1 = z.infer<typeof WorkflowStartV1>;

/** Child runs (a `workflow` step's run) carry their parent; the task follows its root run only. */
const RunRef = { runId: Id, taskId: Id, parentRunId: Id.optional() };

export const WorkflowRunStartedV1 = z.object({ ...RunRef, workflow: WorkflowName, version: z.number().int().positive() });
export type WorkflowRunStartedV1 = z.infer<typeof WorkflowRunStartedV1>;

export const WorkflowRunCompletedV1 = z.object({ ...RunRef, output: z.unknown() });
export type WorkflowRunCompletedV1 = z.infer<typeof WorkflowRunCompletedV1>;

export const WorkflowRunFailedV1 = z.object({ ...RunRef, error: ErrorInfo });
export type WorkflowRunFailedV1 = z.infer<typeof WorkflowRunFailedV1>;

/** A step exhausted its retries (or hit a non-retryable error): the run waits for retry, skip or cancel. */
export const WorkflowRunParkedV1 = z.object({ ...RunRef, stepPath: z.string().min(1), error: ErrorInfo });
export type WorkflowRunParkedV1 = z.infer<typeof WorkflowRunParkedV1>;

export const WorkflowRunResumedV1 = z.object({ ...RunRef, action: z.enum(['retry', 'skip']), stepPath: z.string().min(1) });
export type WorkflowRunResumedV1 = z.infer<typeof WorkflowRunResumedV1>;

export const WorkflowRunCancelledV1 = z.object({ ...RunRef, reason: z.string() });
export type WorkflowRunCancelledV1 = z.infer<typeof WorkflowRunCancelledV1>;

/** Operators' commands on a run (from the gateway API); `requestId` makes a repeated request harmless. */
export const WorkflowControlV1 = z.object({
  requestId: Id,
  tenantId: Id,
  runId: Id,
  action: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('retry'), stepPath: z.string().min(1) }),
    z.object({ kind: z.literal('skip'), stepPath: z.string().min(1), output: z.unknown() }),
    z.object({ kind: z.literal('cancel'), reason: z.string().max(2000).default('cancelled') }),
  ]),
});
export type WorkflowControlV1 = z.infer<typeof WorkflowControlV1>;

/** A named event from outside (a webhook, a person, a program): wait steps wait for these. */
export const ExternalEventV1 = z.object({
  eventId: Id,
  tenantId: Id,
  name: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9._:-]*$/).max(200),
  key: z.string().min(1).max(500).optional(),
  data: z.unknown(),
});
export type ExternalEventV1 = z.infer<typeof ExternalEventV1>;

const StepRef = { runId: Id, stepRunId: Id, stepPath: z.string().min(1), attempt: z.number().int().nonnegative() };

export const StepRunScheduledV1 = z.object({ ...StepRef, attempt: z.number().int().positive() });
export type StepRunScheduledV1 = z.infer<typeof StepRunScheduledV1>;

export const StepRunStartedV1 = z.object({ ...StepRef });
export type StepRunStartedV1 = z.infer<typeof StepRunStartedV1>;

/** The step holds no worker while it waits: for a retry's back-off, a timer, an event, a decision or a child run. */
export const StepRunWaitingV1 = z.object({
  ...StepRef,
  for: z.enum(['retry', 'timer', 'event', 'decision', 'child_run', 'items']),
  until: z.iso.datetime({ offset: true }).optional(),
  key: z.string().optional(),
});
export type StepRunWaitingV1 = z.infer<typeof StepRunWaitingV1>;

export const StepRunCompletedV1 = z.object({ ...StepRef, attempt: z.number().int().positive(), output: z.unknown(), outputRef: OutputRef.optional() });
export type StepRunCompletedV1 = z.infer<typeof StepRunCompletedV1>;

/** An attempt failed; `retryAt` says when the next one runs (absent: the step parks). */
export const StepRunFailedV1 = z.object({ ...StepRef, attempt: z.number().int().positive(), error: ErrorInfo, retryAt: z.iso.datetime({ offset: true }).optional() });
export type StepRunFailedV1 = z.infer<typeof StepRunFailedV1>;

export const StepRunSkippedV1 = z.object({ ...StepRef, reason: z.enum(['condition_false', 'skipped_by_operator']), output: z.unknown().optional() });
export type StepRunSkippedV1 = z.infer<typeof StepRunSkippedV1>;

export const StepRunParkedV1 = z.object({ ...StepRef, error: ErrorInfo });
export type StepRunParkedV1 = z.infer<typeof StepRunParkedV1>;

export const StepRunCancelledV1 = z.object({ ...StepRef });
export type StepRunCancelledV1 = z.infer<typeof StepRunCancelledV1>;

// Skill invocations (command to skill-workers, routed by category; results go back to the requester).
export const SkillInvokeV1 = z.object({
  invocationId: Id,
  tenantId: Id,
  taskId: Id,
  stepRunId: Id.optional(),
  requester: Requester,
  skill: SkillName,
  category: SkillCategory,
  attempt: z.number().int().positive(),
  /** Skills with outside effects must honour it: a retried invocation never acts twice. */
  idempotencyKey: z.string().min(1),
  input: JsonObject,
  timeoutMs: z.number().int().positive(),
  /**
   * When set, the worker reports skill.invocation.started once the skill has run for min(heartbeatMs, 200 ms), then a
   * heartbeat every heartbeatMs while it runs. A skill that ends sooner reports its start in its result instead.
   */
  heartbeatMs: z.number().int().positive().optional(),
});
export type SkillInvokeV1 = z.infer<typeof SkillInvokeV1>;

/** Tokens and cost of the model calls an invocation made (absent: it made none). The task's cost is the sum over its invocations. */
export const LlmUsageV1 = z.object({
  calls: z.number().int().positive(),
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  cacheReadTokens: z.number().int().nonnegative(),
  cacheWriteTokens: z.number().int().nonnegative(),
  costUsd: z.number().nonnegative(),
});
export type LlmUsageV1 = z.infer<typeof LlmUsageV1>;

/** Which worker ran the skill and when it began (absent when the skill never started: unknown, invalid input, cancelled). */
const RanBy = { worker: z.string().min(1).optional(), startedAt: z.iso.datetime({ offset: true }).optional(), llmUsage: LlmUsageV1.optional() };

export const SkillInvocationCompletedV1 = z.object({
  invocationId: Id,
  taskId: Id,
  stepRunId: Id.optional(),
  requester: Requester,
  attempt: z.number().int().positive(),
  output: z.unknown(),
  /** Set when the output was too large for the bus: `output` is then null. */
  outputRef: OutputRef.optional(),
  durationMs: z.number().nonnegative(),
  ...RanBy,
});
export type SkillInvocationCompletedV1 = z.infer<typeof SkillInvocationCompletedV1>;

export const SkillInvocationFailedV1 = z.object({
  invocationId: Id,
  taskId: Id,
  stepRunId: Id.optional(),
  requester: Requester,
  attempt: z.number().int().positive(),
  error: ErrorInfo,
  durationMs: z.number().nonnegative(),
  ...RanBy,
});
export type SkillInvocationFailedV1 = z.infer<typeof SkillInvocationFailedV1>;

/** A worker took up (started) or is still running (heartbeat) an invocation that asked for progress reports. */
export const SkillInvocationProgressV1 = z.object({
  invocationId: Id,
  taskId: Id,
  stepRunId: Id.optional(),
  requester: Requester,
  attempt: z.number().int().positive(),
  worker: z.string().min(1),
  /** When the skill began on that worker. */
  startedAt: z.iso.datetime({ offset: true }).optional(),
});
export type SkillInvocationProgressV1 = z.infer<typeof SkillInvocationProgressV1>;

/** Stop an invocation: every worker hears it; the one running it aborts the skill. */
export const SkillInvocationCancelV1 = z.object({
  invocationId: Id,
  tenantId: Id,
  reason: z.string(),
  /** The cancel stops attempts up to this one; a later attempt (a retry after a timed-out one) runs. Absent: every attempt. */
  attempt: z.number().int().positive().optional(),
});
export type SkillInvocationCancelV1 = z.infer<typeof SkillInvocationCancelV1>;

// Decisions (requested by workflow steps, resolved by the escalation service).
export const DecisionRequestedV1 = z.object({
  decisionId: Id,
  tenantId: Id,
  taskId: Id.optional(),
  runId: Id.optional(),
  stepRunId: Id.optional(),
  type: z.string().min(1).max(100),
  options: z.array(z.object({ id: z.string().min(1), label: z.string() })).min(1),
  proposal: z.string().min(1).optional(),
  /**
   * What the decider sees. Fields the escalation engine reads: confidence and sampleAgreement (0..1), risk
   * (low|medium|high), reversible and critical (booleans), urgency (low|normal|high|critical), blastRadius, cost,
   * recipient (who answers); any other field is an attribute that preferences may learn from.
   */
  context: JsonObject,
  /** Option taken when nobody answers by `fallbackAt`; the resolution says it was a timeout. */
  fallback: z.string().min(1).optional(),
  fallbackAt: z.iso.datetime({ offset: true }).optional(),
});
export type DecisionRequestedV1 = z.infer<typeof DecisionRequestedV1>;

export const DecisionResolvedV1 = z.object({
  decisionId: Id,
  choice: z.string().min(1),
  resolvedBy: z.enum(['autonomous', 'preference', 'human', 'timeout']),
  score: z.number().min(0).max(1).optional(),
  policyVersion: z.string().optional(),
  reasons: z.array(z.string()),
});
export type DecisionResolvedV1 = z.infer<typeof DecisionResolvedV1>;

/**
 * What settled a decision's outcome, in one word: a hard rule, an active preference, no choice to act on, autonomy not
 * yet earned (no certificate for the type), the score against the certified risk-mode threshold, or the budget.
 */
export const VerdictBasis = z.enum(['rule', 'preference', 'no_choice', 'not_earned', 'threshold', 'budget']);
export type VerdictBasis = z.infer<typeof VerdictBasis>;

/** The engine did not decide alone: the decision waits in an escalation batch for a person. */
export const DecisionEscalatedV1 = z.object({
  decisionId: Id,
  tenantId: Id,
  batchId: Id,
  recipient: z.string().min(1),
  type: z.string().min(1),
  proposal: z.string().min(1).optional(),
  score: z.number().min(0).max(1).optional(),
  threshold: z.number().optional(),
  policyVersion: z.string(),
  reasons: z.array(z.string()),
  /** Why the person is asked (absent from events written before it existed). */
  basis: VerdictBasis.optional(),
});
export type DecisionEscalatedV1 = z.infer<typeof DecisionEscalatedV1>;

/** The step that asked for a decision no longer waits for it (its run ended, or its timeout asked again). */
export const DecisionWithdrawnV1 = z.object({
  decisionId: Id,
  tenantId: Id,
  type: z.string().min(1).max(100),
  options: DecisionRequestedV1.shape.options,
  reason: z.string().max(2000),
});
export type DecisionWithdrawnV1 = z.infer<typeof DecisionWithdrawnV1>;

/** A person reviewed an autonomous decision (an audit): it feeds the error estimate and the learning, it changes nothing. */
export const DecisionReviewedV1 = z.object({
  decisionId: Id,
  tenantId: Id,
  choice: z.string().min(1),
  decidedChoice: z.string().min(1),
  agreed: z.boolean(),
  weight: z.number().positive(),
});
export type DecisionReviewedV1 = z.infer<typeof DecisionReviewedV1>;

/** An escalation batch is ready for its person: it is full, its oldest decision waited long enough, or one is critical. */
export const EscalationBatchReadyV1 = z.object({
  batchId: Id,
  tenantId: Id,
  recipient: z.string().min(1),
  trigger: z.enum(['size', 'timeout', 'critical']),
  decisionIds: z.array(Id).min(1),
});
export type EscalationBatchReadyV1 = z.infer<typeof EscalationBatchReadyV1>;

/** Commands to the escalation service (from the gateway): answer a decision, revoke a learned preference. */
export const EscalationControlV1 = z.object({
  requestId: Id,
  tenantId: Id,
  action: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('answer'), decisionId: Id, choice: z.string().min(1), answeredBy: z.string().min(1).max(200) }),
    z.object({ kind: z.literal('revoke_preference'), preferenceId: Id, by: z.string().min(1).max(200) }),
  ]),
});
export type EscalationControlV1 = z.infer<typeof EscalationControlV1>;
