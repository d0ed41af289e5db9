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

export const TaskCompletedV1 = z.object({ taskId: Id, output: z.unknown(), completedAt: z.iso.datetime({ offset: true }) });
export type TaskCompletedV1 = z.infer<typeof TaskCompletedV1>;

export const TaskFailedV1 = z.object({ taskId: Id, error: ErrorInfo, failedAt: z.iso.datetime({ offset: true }) });
export type TaskFailedV1 = z.infer<typeof TaskFailedV1>;

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

export const WorkflowRunStartedV1 = z.object({ runId: Id, taskId: Id, workflow: WorkflowName, version: z.number().int().positive() });
export type WorkflowRunStartedV1 = z.infer<typeof WorkflowRunStartedV1>;

export const WorkflowRunCompletedV1 = z.object({ runId: Id, taskId: Id, output: z.unknown() });
export type WorkflowRunCompletedV1 = z.infer<typeof WorkflowRunCompletedV1>;

export const WorkflowRunFailedV1 = z.object({ runId: Id, taskId: Id, error: ErrorInfo });
export type WorkflowRunFailedV1 = z.infer<typeof WorkflowRunFailedV1>;

export const StepRunScheduledV1 = z.object({ runId: Id, stepRunId: Id, stepPath: z.string().min(1), attempt: z.number().int().positive() });
export type StepRunScheduledV1 = z.infer<typeof StepRunScheduledV1>;

export const StepRunCompletedV1 = z.object({ runId: Id, stepRunId: Id, stepPath: z.string().min(1), attempt: z.number().int().positive(), output: z.unknown() });
export type StepRunCompletedV1 = z.infer<typeof StepRunCompletedV1>;

export const StepRunFailedV1 = z.object({ runId: Id, stepRunId: Id, stepPath: z.string().min(1), attempt: z.number().int().positive(), error: ErrorInfo });
export type StepRunFailedV1 = z.infer<typeof StepRunFailedV1>;

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
});
export type SkillInvokeV1 = z.infer<typeof SkillInvokeV1>;

export const SkillInvocationCompletedV1 = z.object({
  invocationId: Id,
  taskId: Id,
  stepRunId: Id.optional(),
  requester: Requester,
  attempt: z.number().int().positive(),
  output: z.unknown(),
  durationMs: z.number().nonnegative(),
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
});
export type SkillInvocationFailedV1 = z.infer<typeof SkillInvocationFailedV1>;

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
  context: JsonObject,
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
