// What the gateway answers, checked at the boundary. Objects are loose (a newer gateway may add fields) but every
// field the CLI reads is typed here; a response that does not fit is reported, not half-used.
import { z } from 'zod';

const Iso = z.string();

export const ApiIssue = z.looseObject({
  path: z.array(z.union([z.string(), z.number()])).optional(),
  message: z.string(),
  step: z.string().optional(),
});
export type ApiIssue = z.infer<typeof ApiIssue>;

/** The one JSON error shape of the API. */
export const ApiErrorBody = z.object({
  error: z.looseObject({ code: z.string(), message: z.string(), issues: z.array(ApiIssue).optional() }),
});

// ---- tasks ----

export const TASK_FINAL = ['completed', 'failed', 'cancelled'] as const;
export const TaskStatus = z.enum(['pending', 'running', ...TASK_FINAL]);
export type TaskStatus = z.infer<typeof TaskStatus>;
export const isFinal = (s: TaskStatus): boolean => (TASK_FINAL as readonly string[]).includes(s);

export const TaskError = z.looseObject({ code: z.string(), message: z.string(), retryable: z.boolean().optional(), details: z.unknown().optional() });
export type TaskError = z.infer<typeof TaskError>;

export const Task = z.looseObject({
  taskId: z.string(),
  status: TaskStatus,
  kind: z.enum(['skill', 'workflow']),
  skill: z.string().optional(),
  workflow: z.object({ name: z.string(), version: z.number() }).optional(),
  input: z.unknown(),
  output: z.unknown().optional(),
  error: z.unknown().optional(),
  sessionId: z.string().optional(),
  createdAt: Iso,
  startedAt: Iso.optional(),
  completedAt: Iso.optional(),
});
export type Task = z.infer<typeof Task>;

export const Submitted = z.object({ taskId: z.string() });

/** GET /v1/tasks: a page, newest first; the summaries leave out input and output. */
export const TaskSummary = Task.omit({ input: true, output: true });
export type TaskSummary = z.infer<typeof TaskSummary>;
export const TaskPage = z.looseObject({ tasks: z.array(TaskSummary), nextCursor: z.string().nullish() });

/** POST /v1/tasks/:id/cancel: the status the task had, and the command's id when one was sent. */
export const TaskCancelled = z.looseObject({ taskId: z.string(), status: TaskStatus, requestId: z.string().optional() });

// ---- runs ----

export const StepRun = z.looseObject({
  id: z.string(),
  stepPath: z.string(),
  status: z.string(),
  attempt: z.number(),
  output: z.unknown().optional(),
  error: z.unknown().optional(),
  waitFor: z.string().optional(),
  startedAt: Iso.optional(),
  completedAt: Iso.optional(),
  updatedAt: Iso,
});
export type StepRun = z.infer<typeof StepRun>;

export const RunSummary = z.looseObject({
  id: z.string(),
  taskId: z.string(),
  workflow: z.object({ name: z.string(), version: z.number() }),
  status: z.string(),
  parentRunId: z.string().optional(),
  error: z.unknown().optional(),
  createdAt: Iso,
  startedAt: Iso.optional(),
  completedAt: Iso.optional(),
  updatedAt: Iso,
});
export type RunSummary = z.infer<typeof RunSummary>;

export const Run = RunSummary.extend({ steps: z.array(StepRun) });
export type Run = z.infer<typeof Run>;

export const TaskRuns = z.looseObject({ taskId: z.string(), runs: z.array(RunSummary) });

/** What the control routes answer (202). */
export const ControlAccepted = z.looseObject({ runId: z.string().optional(), taskId: z.string().optional(), action: z.string().optional(), requestId: z.string().optional() });

// ---- skills ----

export const SkillSummary = z.looseObject({
  name: z.string(),
  category: z.string(),
  kind: z.string(),
  description: z.string(),
  sideEffects: z.string(),
  timeoutMs: z.number(),
});
export type SkillSummary = z.infer<typeof SkillSummary>;
export const SkillPage = z.looseObject({ skills: z.array(SkillSummary), nextCursor: z.string().optional() });
export const Skill = SkillSummary.extend({ inputSchema: z.unknown(), outputSchema: z.unknown(), updatedAt: Iso });
export type Skill = z.infer<typeof Skill>;

// ---- workflows ----

export const WorkflowVersion = z.looseObject({
  name: z.string(),
  version: z.number(),
  description: z.string().optional(),
  tenant: z.string(),
  createdAt: Iso,
  firstUsedAt: Iso.optional(),
  inUse: z.boolean(),
});
export type WorkflowVersion = z.infer<typeof WorkflowVersion>;
export const WorkflowList = z.looseObject({ workflows: z.array(WorkflowVersion) });
export const WorkflowVersions = z.looseObject({ name: z.string(), versions: z.array(WorkflowVersion) });
export const WorkflowDocument = WorkflowVersion.extend({ id: z.string(), hash: z.string(), definition: z.unknown() });
export type WorkflowDocument = z.infer<typeof WorkflowDocument>;
export const Registered = z.looseObject({ id: z.string(), name: z.string(), version: z.number(), status: z.enum(['registered', 'updated', 'unchanged']) });

// ---- escalations ----

export const DecisionOption = z.looseObject({ id: z.string(), label: z.string() });
export const Decision = z.looseObject({
  id: z.string(),
  type: z.string(),
  status: z.string(),
  options: z.array(DecisionOption),
  proposal: z.string().optional(),
  score: z.number().optional(),
  threshold: z.number().optional(),
  policyVersion: z.string().optional(),
  reasons: z.array(z.string()),
  /** What settled it (rule, preference, no_choice, not_earned, threshold, budget); a string, so a new one still shows. */
  basis: z.string().optional(),
  context: z.record(z.string(), z.unknown()),
  review: z.boolean(),
  reviewed: z.boolean(),
  resolvedBy: z.string().optional(),
  choice: z.string().optional(),
  fallback: z.string().optional(),
  fallbackAt: Iso.optional(),
  batchId: z.string().optional(),
  taskId: z.string().optional(),
  runId: z.string().optional(),
  createdAt: Iso,
  resolvedAt: Iso.optional(),
});
export type Decision = z.infer<typeof Decision>;

export const Batch = z.looseObject({
  id: z.string(),
  recipient: z.string(),
  status: z.string(),
  trigger: z.string().optional(),
  escalations: z.number(),
  createdAt: Iso,
  sentAt: Iso.optional(),
  closedAt: Iso.optional(),
  decisions: z.array(Decision),
});
export type Batch = z.infer<typeof Batch>;
export const BatchList = z.looseObject({ batches: z.array(Batch) });
export const AnswersAccepted = z.looseObject({ requestIds: z.array(z.string()) });

/** A decision that waits for the person: an escalation to answer, or an autonomous decision to review. */
export const awaitsPerson = (d: Decision): boolean => d.status === 'escalated' || (d.review && !d.reviewed);

// ---- events ----

/** A CloudEvents 1.0 envelope as Steward writes them (extensions: tenantid, correlationid, causationid, …). */
export const CloudEvent = z.looseObject({
  specversion: z.string(),
  id: z.string(),
  type: z.string(),
  source: z.string(),
  time: Iso.optional(),
  subject: z.string().optional(),
  correlationid: z.string().optional(),
  causationid: z.string().optional(),
  data: z.unknown().optional(),
});
export type CloudEvent = z.infer<typeof CloudEvent>;

// ---- keys ----

export const Unknown = z.unknown();
