// Response bodies as zod schemas, for the OpenAPI document. The handlers return TypeScript interfaces (the `*View`
// types of each area's dto); each schema below is checked against its interface at compile time (`Matches`), so a
// field added to, removed from or retyped in a view breaks the typecheck here until the description follows.
import { EscalationPolicy, VerdictBasis } from '@steward/contracts';
import { DecisionResolver, DecisionStatus, EscalationBatchStatus, PreferenceStatus, SessionStatus, StepRunStatus, TaskKind, TaskStatus, WorkflowRunStatus } from '@steward/state';
import { z } from 'zod';
import { AuditItem } from '../audit/audit.dto.js';
import type { AnswersAccepted, BatchView, DecisionView } from '../escalations/escalation.dto.js';
import type { EventAccepted } from '../events/event.dto.js';
import type { ApiErrorBody } from '../http/api-error.js';
import type { KeyView } from '../keys/key.dto.js';
import type { ControlAccepted, RunSummaryView, RunView, StepRunView, TaskRunsView } from '../runs/run.dto.js';
import type { SkillSummary, SkillView } from '../skills/skill.dto.js';
import type { ContextEntryView, ContextListView, SessionDetailView, SessionListView, SessionView } from '../sessions/session.dto.js';
import type { TaskCancelView, TaskListView, TaskSummaryView, TaskView } from '../tasks/task.dto.js';
import { WebhookView } from '../webhooks/webhook.dto.js';
import type { RegisteredWorkflowView, WorkflowDocumentView, WorkflowListView, WorkflowVersionView, WorkflowVersionsView } from '../workflows/workflow.dto.js';

/**
 * True when the schema describes the interface: every value of the schema is a value of the interface, and both have
 * the same fields. (The schema may be narrower, e.g. an enum where the interface says `string`.)
 */
type Matches<S, I> = [S] extends [I] ? ([keyof S] extends [keyof I] ? ([keyof I] extends [keyof S] ? true : false) : false) : false;
/** Compile-time assertion: `check<Matches<…>>()` fails to typecheck when the schema and the interface drift apart. */
const check = <_T extends true>(): void => undefined;

const Timestamp = z.iso.datetime({ offset: true }).describe('ISO 8601 timestamp (UTC)');
const AnyJson = z.unknown();

// ─── Errors ─────────────────────────────────────────────────────────────────────────────────────────────────────

export const ApiIssueSchema = z
  .object({
    path: z.array(z.union([z.string(), z.number()])).describe('Where in the request the problem is (a zod issue path).'),
    message: z.string(),
    step: z.string().optional().describe('For a workflow definition issue: the step it is about.'),
    code: z.string().optional().describe('For a zod issue: its code (invalid_type, too_big, …).'),
  })
  .loose()
  .describe('One problem in the request: a zod issue (with its other fields, such as `expected`), or a workflow definition issue.');

export const ErrorBodySchema = z
  .object({
    error: z.object({
      code: z.string().describe('Stable, machine-readable: invalid_request, unauthenticated, forbidden, not_found, rate_limited, …'),
      message: z.string().describe('For people; may change.'),
      issues: z.array(ApiIssueSchema).optional().describe('The zod issues of a 400 `invalid_request` (or the checks a workflow definition failed).'),
    }),
  })
  .describe('The one error shape of the API, for every 4xx and 5xx answer.');
check<[z.infer<typeof ErrorBodySchema>] extends [ApiErrorBody] ? true : false>();

// ─── Tasks ──────────────────────────────────────────────────────────────────────────────────────────────────────

export const TaskAcceptedSchema = z.object({ taskId: z.uuid() });

const taskSummaryShape = {
  taskId: z.uuid(),
  status: z.enum(TaskStatus),
  kind: z.enum(TaskKind),
  skill: z.string().optional().describe('A skill task: the skill it runs.'),
  workflow: z.object({ name: z.string(), version: z.number().int() }).optional().describe('A workflow task: the definition version it runs.'),
  sessionId: z.string().optional().describe('The session the task belongs to, if any.'),
  error: AnyJson.optional().describe('A failed or cancelled task: `{ code, message, retryable, details? }`.'),
  createdAt: Timestamp,
  startedAt: Timestamp.optional(),
  completedAt: Timestamp.optional(),
};
export const TaskSummarySchema = z.object(taskSummaryShape).describe('A task in a list: everything but its input and output.');
check<Matches<z.infer<typeof TaskSummarySchema>, TaskSummaryView>>();

export const TaskViewSchema = z.object({
  ...taskSummaryShape,
  input: AnyJson.describe('The input the task was submitted with (a JSON object).'),
  output: AnyJson.optional().describe('A completed task: its output.'),
});
check<Matches<z.infer<typeof TaskViewSchema>, TaskView>>();

export const TaskListSchema = z.object({
  tasks: z.array(TaskSummarySchema).describe('Newest first.'),
  nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last one.'),
});
check<Matches<z.infer<typeof TaskListSchema>, TaskListView>>();

export const TaskCancelSchema = z.object({
  taskId: z.uuid(),
  status: z.enum(TaskStatus).describe('202: the status the task had when the cancellation was sent; 200: `cancelled`.'),
  requestId: z.uuid().optional().describe('202 only: the id of the cancel command sent to the orchestrator.'),
});
check<Matches<z.infer<typeof TaskCancelSchema>, TaskCancelView>>();

// ─── Sessions ───────────────────────────────────────────────────────────────────────────────────────────────────

const sessionShape = {
  id: z.uuid(),
  title: z.string(),
  status: z.enum(SessionStatus),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  closedAt: Timestamp.optional(),
};
export const SessionSchema = z.object(sessionShape);
check<Matches<z.infer<typeof SessionSchema>, SessionView>>();

export const SessionDetailSchema = z.object({
  ...sessionShape,
  counts: z.object({ tasks: z.number().int(), entries: z.number().int() }).describe('Tasks submitted into the session (any status), and its context entries that have not expired.'),
});
check<Matches<z.infer<typeof SessionDetailSchema>, SessionDetailView>>();

export const SessionListSchema = z.object({
  sessions: z.array(SessionSchema).describe('Newest first.'),
  nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last one.'),
});
check<Matches<z.infer<typeof SessionListSchema>, SessionListView>>();

export const ContextEntrySchema = z.object({
  key: z.string(),
  value: AnyJson.describe('Any JSON value.'),
  type: z.string(),
  relevance: z.number().min(0).max(1),
  accessCount: z.number().int().describe('Reads of this entry by GET …/context/{key} (this one included, when it is the answer to one).'),
  lastAccessedAt: Timestamp.optional(),
  expiresAt: Timestamp.optional(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
check<Matches<z.infer<typeof ContextEntrySchema>, ContextEntryView>>();

export const ContextListSchema = z.object({ sessionId: z.string(), entries: z.array(ContextEntrySchema).describe('The most relevant first.') });
check<Matches<z.infer<typeof ContextListSchema>, ContextListView>>();

// ─── Workflows and runs ─────────────────────────────────────────────────────────────────────────────────────────

export const RegisteredWorkflowSchema = z.object({
  id: z.string(),
  name: z.string(),
  version: z.number().int(),
  status: z.enum(['registered', 'updated', 'unchanged']),
});
check<Matches<z.infer<typeof RegisteredWorkflowSchema>, RegisteredWorkflowView>>();

const workflowVersionShape = {
  name: z.string(),
  version: z.number().int(),
  description: z.string().optional(),
  tenant: z.string().describe('The caller\'s own tenant, or `system` for the definitions shipped with the workflow-runner.'),
  createdAt: Timestamp,
  firstUsedAt: Timestamp.optional().describe('Set once a run has used the version: from then on it cannot change.'),
  inUse: z.boolean(),
};
export const WorkflowVersionSchema = z.object(workflowVersionShape);
check<Matches<z.infer<typeof WorkflowVersionSchema>, WorkflowVersionView>>();

export const WorkflowListSchema = z.object({ workflows: z.array(WorkflowVersionSchema) });
check<Matches<z.infer<typeof WorkflowListSchema>, WorkflowListView>>();

export const WorkflowVersionsSchema = z.object({ name: z.string(), versions: z.array(WorkflowVersionSchema) });
check<Matches<z.infer<typeof WorkflowVersionsSchema>, WorkflowVersionsView>>();

export const WorkflowDocumentSchema = z.object({
  ...workflowVersionShape,
  id: z.string(),
  hash: z.string(),
  definition: AnyJson.describe('The stored definition document (see /v1/schemas/workflow-definition.json).'),
});
check<Matches<z.infer<typeof WorkflowDocumentSchema>, WorkflowDocumentView>>();

const runSummaryShape = {
  id: z.string(),
  taskId: z.string(),
  workflow: z.object({ name: z.string(), version: z.number().int() }),
  status: z.enum(WorkflowRunStatus),
  input: AnyJson,
  output: AnyJson.optional(),
  error: AnyJson.optional(),
  parentRunId: z.string().optional().describe('A child run: the run whose step started it.'),
  createdAt: Timestamp,
  startedAt: Timestamp.optional(),
  completedAt: Timestamp.optional(),
  updatedAt: Timestamp,
};
export const RunSummarySchema = z.object(runSummaryShape);
check<Matches<z.infer<typeof RunSummarySchema>, RunSummaryView>>();

export const StepRunSchema = z.object({
  id: z.string(),
  stepPath: z.string(),
  status: z.enum(StepRunStatus),
  attempt: z.number().int(),
  input: AnyJson.optional(),
  output: AnyJson.optional(),
  error: AnyJson.optional(),
  waitFor: z.string().optional().describe('What a waiting step waits for: retry, timer, event, decision, child_run or items.'),
  scheduledAt: Timestamp.optional(),
  startedAt: Timestamp.optional(),
  completedAt: Timestamp.optional(),
  nextAttemptAt: Timestamp.optional(),
  deadlineAt: Timestamp.optional(),
  updatedAt: Timestamp,
});
check<Matches<z.infer<typeof StepRunSchema>, StepRunView>>();

export const RunSchema = z.object({ ...runSummaryShape, steps: z.array(StepRunSchema) });
check<Matches<z.infer<typeof RunSchema>, RunView>>();

export const TaskRunsSchema = z.object({ taskId: z.string(), runs: z.array(RunSummarySchema) });
check<Matches<z.infer<typeof TaskRunsSchema>, TaskRunsView>>();

export const ControlAcceptedSchema = z.object({
  runId: z.string(),
  action: z.enum(['retry', 'skip', 'cancel']),
  requestId: z.uuid().describe('The id of the control command published for the workflow-runner.'),
});
check<Matches<z.infer<typeof ControlAcceptedSchema>, ControlAccepted>>();

export const EventAcceptedSchema = z.object({ eventId: z.uuid() });
check<Matches<z.infer<typeof EventAcceptedSchema>, EventAccepted>>();

// ─── Escalations ────────────────────────────────────────────────────────────────────────────────────────────────

export const DecisionSchema = z.object({
  id: z.string(),
  type: z.string(),
  status: z.enum(DecisionStatus),
  options: z.array(z.object({ id: z.string(), label: z.string() })),
  proposal: z.string().optional().describe('The option the agent proposes.'),
  score: z.number().optional().describe('The engine\'s P(the person agrees with its choice).'),
  threshold: z.number().optional().describe('The threshold the score was held to.'),
  policyVersion: z.string().optional(),
  reasons: z.array(z.string()).describe('Why it was decided or escalated, most important first.'),
  basis: VerdictBasis.optional().describe('What settled it: a hard rule, a preference, no choice to act on, autonomy not yet earned, the score against the certified threshold, or the budget.'),
  context: z.record(z.string(), AnyJson),
  review: z.boolean().describe('An autonomous decision under review: the person is asked to check it, nothing waits.'),
  reviewed: z.boolean(),
  resolvedBy: z.enum(DecisionResolver).optional(),
  choice: z.string().optional(),
  fallback: z.string().optional(),
  fallbackAt: Timestamp.optional(),
  batchId: z.string().optional(),
  taskId: z.string().optional(),
  runId: z.string().optional(),
  createdAt: Timestamp,
  resolvedAt: Timestamp.optional(),
});
check<Matches<z.infer<typeof DecisionSchema>, DecisionView>>();

export const BatchSchema = z.object({
  id: z.string(),
  recipient: z.string(),
  status: z.enum(EscalationBatchStatus),
  trigger: z.string().optional().describe('What sent it: size, timeout or critical.'),
  escalations: z.number().int(),
  createdAt: Timestamp,
  sentAt: Timestamp.optional(),
  closedAt: Timestamp.optional(),
  decisions: z.array(DecisionSchema).describe('Most urgent first.'),
});
check<Matches<z.infer<typeof BatchSchema>, BatchView>>();

export const BatchListSchema = z.object({ batches: z.array(BatchSchema) });
export const DecisionListSchema = z.object({ decisions: z.array(DecisionSchema) });

export const AnswersAcceptedSchema = z.object({ requestIds: z.array(z.uuid()).describe('One escalation.control command per answer.') });
check<Matches<z.infer<typeof AnswersAcceptedSchema>, AnswersAccepted>>();

/** One learned preference as `GET /v1/escalations/preferences` lists it (EscalationsUseCase.listPreferences). */
export const PreferenceSchema = z.object({
  id: z.string(),
  type: z.string().describe('The decision type it applies to.'),
  condition: z.string().describe('The context condition it holds under; `*` for always.'),
  choice: AnyJson.describe('The option it picks.'),
  status: z.enum(PreferenceStatus),
  statusReason: z.string().optional(),
  support: z.number().int().describe('Answers it was learned from.'),
  agreement: z.number(),
  lowerBound: z.number().describe('Lower confidence bound of the agreement.'),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export const PreferenceListSchema = z.object({ preferences: z.array(PreferenceSchema) });

/** GET and PUT /v1/escalations/policy: the policy with every default filled in. */
export const PolicyVersionSchema = z.object({ version: z.number().int().describe('0 while the tenant has set none (the defaults).'), policy: EscalationPolicy });
export const PolicyHistorySchema = z.object({ versions: z.array(z.object({ version: z.number().int().min(1), policy: EscalationPolicy, createdAt: Timestamp })) });

export const PreferenceRevokeAcceptedSchema = z.object({ preferenceId: z.string(), requestId: z.uuid() });

// ─── Skills and keys ────────────────────────────────────────────────────────────────────────────────────────────

const skillSummaryShape = {
  name: z.string(),
  category: z.string(),
  kind: z.string().describe('code or prompt'),
  description: z.string(),
  sideEffects: z.string(),
  timeoutMs: z.number().int(),
};
export const SkillSummarySchema = z.object(skillSummaryShape);
check<Matches<z.infer<typeof SkillSummarySchema>, SkillSummary>>();

export const SkillListSchema = z.object({
  skills: z.array(SkillSummarySchema),
  nextCursor: z.string().optional().describe('Present when there are more: pass it as `cursor` for the next page.'),
});

export const SkillSchema = z.object({ ...skillSummaryShape, inputSchema: AnyJson.describe('JSON Schema'), outputSchema: AnyJson.describe('JSON Schema'), updatedAt: Timestamp });
check<Matches<z.infer<typeof SkillSchema>, SkillView>>();

const keyShape = {
  id: z.uuid(),
  name: z.string(),
  prefix: z.string().describe('The public part of the key, to recognise it.'),
  scopes: z.array(z.enum(['submit', 'read', 'answer', 'admin'])),
  createdAt: Timestamp,
  lastUsedAt: Timestamp.nullable(),
  revokedAt: Timestamp.nullable(),
};
export const KeySchema = z.object(keyShape);
check<Matches<z.infer<typeof KeySchema>, KeyView>>();
export const KeyListSchema = z.object({ keys: z.array(KeySchema) });
export const IssuedKeySchema = z.object({ ...keyShape, key: z.string().regex(/^stw_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/).describe('The secret, shown this once.') });
check<Matches<z.infer<typeof IssuedKeySchema>, KeyView & { key: string }>>();

// ─── Operations ─────────────────────────────────────────────────────────────────────────────────────────────────

export const HealthSchema = z.object({ status: z.literal('ok'), service: z.string() });
export const ReadinessSchema = z.object({
  status: z.enum(['ready', 'not-ready']),
  checks: z.record(z.string(), z.string()).describe('Each dependency: `ok`, or why not.'),
});

/**
 * Schemas that get a component of their own (and are referenced where they occur) besides the request and response
 * bodies the routes name: the parts several bodies share.
 */
export const SHARED_RESPONSE_COMPONENTS: Readonly<Record<string, z.ZodType>> = {
  ErrorBody: ErrorBodySchema,
  ApiIssue: ApiIssueSchema,
  Decision: DecisionSchema,
  TaskSummary: TaskSummarySchema,
  Session: SessionSchema,
  ContextEntry: ContextEntrySchema,
  StepRun: StepRunSchema,
  RunSummary: RunSummarySchema,
  WorkflowVersion: WorkflowVersionSchema,
  SkillSummary: SkillSummarySchema,
  Key: KeySchema,
  Preference: PreferenceSchema,
  EscalationPolicy,
  AuditItem,
  WebhookView,
};
