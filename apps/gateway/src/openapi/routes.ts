// The API's routes, one entry each, for the OpenAPI document (document.ts). Request schemas are the very zod schemas
// the handlers validate with (each area's *.dto.ts); response schemas are those of ./schemas.ts. The completeness test
// (test/openapi.int.test.ts) holds this list to the routes Nest serves: same methods, paths and scopes.
import { EscalationPolicy, WorkflowDefinition } from '@steward/contracts';
import type { ApiScope } from '@steward/state';
import { z } from 'zod';
import { AnswerBatchBody, AnswerDecisionBody, BatchId, BatchStatusQuery, DecisionId, DecisionListQuery, PolicyVersionsQuery, PreferenceId, RevokePreferenceBody, RuleId } from '../escalations/escalation.dto.js';
import { PublishEventBody } from '../events/event.dto.js';
import { IdempotencyKey } from '../http/idempotency.js';
import { AuditPage, AuditQuery, TaskEventsPage, TaskEventsQuery } from '../audit/audit.dto.js';
import { CreateKeyBody, KeyId } from '../keys/key.dto.js';
import { LastEventId, LiveQuery } from '../live/live.dto.js';
import { CancelRunBody, RunId, SkipStepBody, StepPath } from '../runs/run.dto.js';
import { ContextKey, ContextListQuery, CreateSessionBody, PutContextBody, SessionId, SessionListQuery } from '../sessions/session.dto.js';
import { SkillListQuery, SkillName } from '../skills/skill.dto.js';
import { CancelTaskBody, SubmitTaskBody, TaskId, TaskListQuery } from '../tasks/task.dto.js';
import { CreatedWebhook, CreateWebhookBody, WebhookId, WebhookList } from '../webhooks/webhook.dto.js';
import { WorkflowNameParam, WorkflowVersionParam } from '../workflows/workflow.dto.js';
import { YAML_CONTENT_TYPES } from '../workflows/yaml-body.js';
import {
  AnswersAcceptedSchema,
  BatchListSchema,
  BatchSchema,
  ContextEntrySchema,
  ContextListSchema,
  ControlAcceptedSchema,
  DecisionListSchema,
  DecisionSchema,
  ErrorBodySchema,
  EventAcceptedSchema,
  HealthSchema,
  IssuedKeySchema,
  KeyListSchema,
  PreferenceListSchema,
  PolicyHistorySchema,
  PolicyVersionSchema,
  PreferenceRevokeAcceptedSchema,
  ReadinessSchema,
  RegisteredWorkflowSchema,
  RunSchema,
  SessionDetailSchema,
  SessionListSchema,
  SessionSchema,
  SkillListSchema,
  SkillSchema,
  TaskAcceptedSchema,
  TaskCancelSchema,
  TaskListSchema,
  TaskRunsSchema,
  TaskViewSchema,
  WorkflowDocumentSchema,
  WorkflowListSchema,
  WorkflowVersionsSchema,
} from './schemas.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** The document's tags, in the order the /docs page shows them. */
export const TAGS = {
  Tasks: 'Submit tasks (a skill or a workflow), list, read and cancel them.',
  Sessions: 'Multi-day sessions (create, pause, resume, close) and their context entries.',
  Live: 'Server-sent event streams: a task\'s progress, new escalation batches; resumable with Last-Event-ID.',
  Audit: 'The retained event stream, as CloudEvents, in order.',
  Workflows: 'Workflow definitions: register, list, read; the JSON Schema of definitions.',
  Runs: 'Workflow runs and their step runs; retry or skip a parked step, cancel a run.',
  Events: 'Named events from outside, for the wait steps of workflows.',
  Escalations: 'Batches of escalated decisions, answers, learned preferences and the escalation policy.',
  Skills: 'The skill catalogue.',
  Keys: 'API keys of the tenant (admin).',
  Webhooks: 'Signed (Standard Webhooks, HMAC) deliveries of events to the tenant\'s endpoints (admin).',
  Inbox: 'The escalation inbox page: public static files; its data comes from the authenticated API.',
  Operations: 'Health, readiness and metrics: public, for probes and scrapers.',
  Documentation: 'This description of the API and its interactive page.',
} as const;
export type Tag = keyof typeof TAGS;

/** A request or response body: its schema gets a component named `name` (one name per schema, one schema per name). */
export interface BodySpec {
  name: string;
  schema: z.ZodType;
}

export interface RequestBodySpec extends BodySpec {
  required: boolean;
  /** Content types other than application/json that take the same schema (e.g. YAML). */
  alsoAccepts?: readonly string[];
  description?: string;
  /** A valid request body; the completeness test sends it and checks the route accepts it. */
  example: unknown;
}

export interface HeaderSpec {
  name: string;
  description: string;
  schema: z.ZodType;
  required?: boolean;
}

export interface ResponseSpec {
  description: string;
  /** A JSON body; or `content` for other media types (raw JSON Schema: what a non-JSON body is). */
  body?: BodySpec;
  content?: Record<string, { schema: Record<string, unknown> }>;
  headers?: Record<string, { description: string; schema: Record<string, unknown> }>;
}

/** A route-specific error: the status and the `error.code`s it comes with. */
export interface ErrorSpec {
  status: 400 | 403 | 404 | 406 | 409 | 413 | 415 | 422 | 429 | 503;
  codes: readonly string[];
  when: string;
}

export interface RouteSpec {
  method: HttpMethod;
  /** As Nest and Fastify write it: `/v1/tasks/:id`. */
  path: string;
  operationId: string;
  tag: Tag;
  summary: string;
  description?: string;
  /** The scope the auth guard demands, or `public` (no credentials). */
  scope: ApiScope | 'public';
  /** Path parameters by name, with the schema the handler parses them with. */
  params?: Record<string, { schema: z.ZodType; description?: string; example: string }>;
  /** The query string's schema (an object; each property becomes a query parameter). */
  query?: z.ZodObject;
  headers?: readonly HeaderSpec[];
  body?: RequestBodySpec;
  /** Success responses by status. */
  responses: Record<number, ResponseSpec>;
  /** Errors beyond the common ones (400 bad input, 401, 403, 404, 429 on authenticated routes). */
  errors?: readonly ErrorSpec[];
}

const idempotencyKey: HeaderSpec = {
  name: 'Idempotency-Key',
  description: 'Optional. 1 to 255 printable ASCII characters, no spaces, scoped to the tenant: a repeated request has the effect of one.',
  schema: IdempotencyKey,
};

const location = (what: string) => ({ description: `Where ${what} can be read.`, schema: { type: 'string' } });
const unavailable: ErrorSpec = { status: 503, codes: ['unavailable'], when: 'NATS did not accept the command or event; repeat the request (with the same Idempotency-Key).' };
const uuidExample = '3f2b8c1e-5d0a-4c6e-9a57-0c1f4e2d7b90';

const lastEventId: HeaderSpec = { name: 'Last-Event-ID', description: 'Resume after this stream sequence (the `id` of the last event received); wins over `?after=`.', schema: LastEventId };
const notAcceptable: ErrorSpec = { status: 406, codes: ['not_acceptable'], when: 'The request did not send `Accept: text/event-stream`.' };
const tooManyStreams: ErrorSpec = { status: 429, codes: ['too_many_streams'], when: 'This API key has as many live streams open as it may.' };
const contextKey = { schema: ContextKey, description: 'Letters, digits and `. _ : @ -`, starting with a letter or digit.', example: 'release.branch' };

const id = (what: string, schema: z.ZodType = TaskId) => ({ schema, description: `The ${what}'s id.`, example: uuidExample });

export const ROUTES: readonly RouteSpec[] = [
  // ─── Tasks ──────────────────────────────────────────────────────────────────────────────────────────────────
  {
    method: 'POST',
    path: '/v1/tasks',
    operationId: 'submitTask',
    tag: 'Tasks',
    summary: 'Submit a task',
    description:
      'Runs one skill or one workflow. The body takes exactly one of `skill` or `workflow`; `version` only with `workflow` (without it the latest ' +
      'registered version runs). A workflow\'s `input` is checked by the workflow-runner, not here. With an `Idempotency-Key`, the same request ' +
      'answers the first task\'s id again (202, `Idempotent-Replayed: true`); a different request with the same key is 422.',
    scope: 'submit',
    headers: [idempotencyKey],
    body: { name: 'SubmitTaskBody', schema: SubmitTaskBody, required: true, example: { skill: 'echo', input: { message: 'hello' } } },
    responses: {
      202: {
        description: 'Accepted: the task is stored and on its way.',
        body: { name: 'TaskAccepted', schema: TaskAcceptedSchema },
        headers: { Location: location('the task'), 'Idempotent-Replayed': { description: '`true` when an Idempotency-Key matched an earlier submission.', schema: { type: 'string', enum: ['true'] } } },
      },
    },
    errors: [
      { status: 409, codes: ['conflict', 'session_not_active'], when: 'A submission with the same Idempotency-Key is still in progress (retry); or the session is paused or closed.' },
      { status: 422, codes: ['unknown_skill', 'unknown_workflow', 'unknown_session', 'idempotency_key_reused'], when: 'No such skill, workflow (version) or open session; or the Idempotency-Key was used for a different request.' },
    ],
  },
  {
    method: 'GET',
    path: '/v1/tasks/:id',
    operationId: 'getTask',
    tag: 'Tasks',
    summary: 'Read a task',
    description: '`status` goes pending → running → completed, failed or cancelled. A task of another tenant is 404.',
    scope: 'read',
    params: { id: id('task') },
    responses: { 200: { description: 'The task.', body: { name: 'Task', schema: TaskViewSchema } } },
  },
  {
    method: 'GET',
    path: '/v1/tasks/:id/runs',
    operationId: 'listTaskRuns',
    tag: 'Runs',
    summary: "A workflow task's runs",
    description: 'The root run and its child runs, oldest first.',
    scope: 'read',
    params: { id: id('task') },
    responses: { 200: { description: 'The runs.', body: { name: 'TaskRuns', schema: TaskRunsSchema } } },
  },
  {
    method: 'GET',
    path: '/v1/tasks',
    operationId: 'listTasks',
    tag: 'Tasks',
    summary: 'List tasks',
    description:
      'The tenant\'s tasks, newest first, a page at a time; filters combine with AND. `status` takes several values (`status=pending,running` or the parameter repeated). ' +
      'At most one of `skill` and `workflow`. A list leaves out input and output: read a task for them.',
    scope: 'read',
    query: TaskListQuery,
    responses: { 200: { description: 'A page of tasks.', body: { name: 'TaskList', schema: TaskListSchema } } },
  },
  {
    method: 'POST',
    path: '/v1/tasks/:id/cancel',
    operationId: 'cancelTask',
    tag: 'Tasks',
    summary: 'Cancel a task',
    description:
      'Sends the cancellation to the orchestrator, which stops a skill task at once and a workflow task through its root run. A task already cancelled is answered 200 and nothing is sent, so a repeated request is harmless.',
    scope: 'submit',
    params: { id: id('task') },
    headers: [idempotencyKey],
    body: { name: 'CancelTaskBody', schema: CancelTaskBody, required: false, example: { reason: 'no longer needed' } },
    responses: {
      202: { description: 'The cancellation is on its way; `status` is the one the task had.', body: { name: 'TaskCancel', schema: TaskCancelSchema }, headers: { Location: location('the task') } },
      200: { description: 'The task was already cancelled.', body: { name: 'TaskCancel', schema: TaskCancelSchema }, headers: { Location: location('the task') } },
    },
    errors: [{ status: 409, codes: ['task_finished'], when: 'The task has completed or failed: there is nothing to cancel.' }, unavailable],
  },
  {
    method: 'GET',
    path: '/v1/tasks/:id/events',
    operationId: 'listTaskEvents',
    tag: 'Audit',
    summary: "A task's events",
    description: 'Every event of the task in stream order, as CloudEvents exactly as stored, a page at a time (`after` the `next` of the page before).',
    scope: 'read',
    params: { id: id('task') },
    query: TaskEventsQuery,
    responses: { 200: { description: 'A page of the task\'s events.', body: { name: 'TaskEventsPage', schema: TaskEventsPage } } },
    errors: [{ status: 503, codes: ['unavailable'], when: 'The event stream could not be read; retry.' }],
  },
  {
    method: 'GET',
    path: '/v1/tasks/:id/stream',
    operationId: 'streamTask',
    tag: 'Live',
    summary: "A task's progress, live",
    description:
      'Server-sent events: the task\'s events already stored, then each as it happens; the stream ends after the task\'s final event. Each event\'s `id` is its stream sequence: ' +
      'reconnect with `Last-Event-ID` (or `?after=`) to resume without missing one. Send `Accept: text/event-stream`.',
    scope: 'read',
    params: { id: id('task') },
    query: LiveQuery,
    headers: [lastEventId],
    responses: {
      200: { description: 'The event stream.', content: { 'text/event-stream': { schema: { type: 'string' } } } },
      204: { description: 'The task has ended and every event after the resume point was already sent.' },
    },
    errors: [notAcceptable, tooManyStreams, { status: 503, codes: ['unavailable'], when: 'The event stream could not be read, or the gateway has no room for another stream; retry.' }],
  },
  {
    method: 'GET',
    path: '/v1/escalations/stream',
    operationId: 'streamEscalations',
    tag: 'Live',
    summary: 'New escalation batches and decisions, live',
    description: 'Server-sent events of the tenant\'s escalation batches and decision events as they happen; resumable with `Last-Event-ID` (or `?after=`). Send `Accept: text/event-stream`.',
    scope: 'read',
    query: LiveQuery,
    headers: [lastEventId],
    responses: { 200: { description: 'The event stream (it does not end on its own).', content: { 'text/event-stream': { schema: { type: 'string' } } } } },
    errors: [notAcceptable, tooManyStreams, { status: 503, codes: ['unavailable'], when: 'The event stream could not be read, or the gateway has no room for another stream; retry.' }],
  },
  {
    method: 'GET',
    path: '/v1/audit/events',
    operationId: 'listAuditEvents',
    tag: 'Audit',
    summary: "The tenant's events",
    description: 'The tenant\'s events in stream order from a sequence (`after`) or a time (`since`), optionally of some types (`types=task.completed,escalation.batch.ready`), as CloudEvents.',
    scope: 'read',
    query: AuditQuery,
    responses: { 200: { description: 'A page of events.', body: { name: 'AuditPage', schema: AuditPage } } },
    errors: [{ status: 503, codes: ['unavailable'], when: 'The event stream could not be read; retry.' }],
  },

  // ─── Sessions ───────────────────────────────────────────────────────────────────────────────────────────────
  {
    method: 'POST',
    path: '/v1/sessions',
    operationId: 'createSession',
    tag: 'Sessions',
    summary: 'Create a session',
    description: 'A session groups the tasks of one piece of work over days (`sessionId` on a task) and holds its context entries.',
    scope: 'submit',
    body: { name: 'CreateSessionBody', schema: CreateSessionBody, required: true, example: { title: 'Release 4.2' } },
    responses: { 201: { description: 'The session, active.', body: { name: 'Session', schema: SessionSchema }, headers: { Location: location('the session') } } },
  },
  {
    method: 'GET',
    path: '/v1/sessions',
    operationId: 'listSessions',
    tag: 'Sessions',
    summary: 'List sessions',
    description: 'Newest first, a page at a time; `status=active,paused` (or the parameter repeated) filters.',
    scope: 'read',
    query: SessionListQuery,
    responses: { 200: { description: 'A page of sessions.', body: { name: 'SessionList', schema: SessionListSchema } } },
  },
  {
    method: 'GET',
    path: '/v1/sessions/:id',
    operationId: 'getSession',
    tag: 'Sessions',
    summary: 'A session with its counts',
    scope: 'read',
    params: { id: id('session', SessionId) },
    responses: { 200: { description: 'The session.', body: { name: 'SessionDetail', schema: SessionDetailSchema } } },
  },
  ...(['pause', 'resume', 'close'] as const).map(
    (action): RouteSpec => ({
      method: 'POST',
      path: `/v1/sessions/:id/${action}`,
      operationId: `${action}Session`,
      tag: 'Sessions',
      summary: { pause: 'Pause a session', resume: 'Resume a paused session', close: 'Close a session' }[action],
      description: 'active ⇄ paused → closed (from either); closed is final. A paused or closed session takes no new tasks; a closed one\'s context is read-only.',
      scope: 'submit',
      params: { id: id('session', SessionId) },
      responses: { 200: { description: 'The session in its new state.', body: { name: 'Session', schema: SessionSchema } } },
      errors: [{ status: 409, codes: ['illegal_transition'], when: `The session's state does not allow it to ${action}.` }],
    }),
  ),
  {
    method: 'GET',
    path: '/v1/sessions/:id/context',
    operationId: 'listContext',
    tag: 'Sessions',
    summary: "A session's context entries",
    description: 'The entries that have not expired, the most relevant first; by minimum relevance and type.',
    scope: 'read',
    params: { id: id('session', SessionId) },
    query: ContextListQuery,
    responses: { 200: { description: 'The entries.', body: { name: 'ContextList', schema: ContextListSchema } } },
  },
  {
    method: 'GET',
    path: '/v1/sessions/:id/context/:key',
    operationId: 'getContext',
    tag: 'Sessions',
    summary: 'One context entry',
    description: 'Counts as a read: its `accessCount` goes up by one.',
    scope: 'read',
    params: { id: id('session', SessionId), key: contextKey },
    responses: { 200: { description: 'The entry.', body: { name: 'ContextEntry', schema: ContextEntrySchema } } },
  },
  {
    method: 'PUT',
    path: '/v1/sessions/:id/context/:key',
    operationId: 'putContext',
    tag: 'Sessions',
    summary: 'Set a context entry',
    description: 'The whole entry: what is left out takes its default. `ttlSeconds` makes it expire.',
    scope: 'submit',
    params: { id: id('session', SessionId), key: contextKey },
    body: { name: 'PutContextBody', schema: PutContextBody, required: true, example: { value: { branch: 'release/4.2' }, type: 'fact', relevance: 0.8, ttlSeconds: 604800 } },
    responses: {
      201: { description: 'A new entry (or one replacing an expired entry).', body: { name: 'ContextEntry', schema: ContextEntrySchema }, headers: { Location: location('the entry') } },
      200: { description: 'It replaced a live entry.', body: { name: 'ContextEntry', schema: ContextEntrySchema }, headers: { Location: location('the entry') } },
    },
    errors: [
      { status: 409, codes: ['session_closed'], when: 'The session is closed: its context is read-only.' },
      { status: 413, codes: ['value_too_large'], when: 'The value is over 64 KiB as JSON.' },
    ],
  },
  {
    method: 'DELETE',
    path: '/v1/sessions/:id/context/:key',
    operationId: 'deleteContext',
    tag: 'Sessions',
    summary: 'Delete a context entry',
    scope: 'submit',
    params: { id: id('session', SessionId), key: contextKey },
    responses: { 204: { description: 'Deleted.' } },
    errors: [{ status: 409, codes: ['session_closed'], when: 'The session is closed: its context is read-only.' }],
  },

  // ─── Workflows ──────────────────────────────────────────────────────────────────────────────────────────────
  {
    method: 'POST',
    path: '/v1/workflows',
    operationId: 'registerWorkflow',
    tag: 'Workflows',
    summary: 'Register a workflow definition',
    description:
      'The body is a definition as JSON or YAML (at most 256 KiB). A version not seen before is `registered` (201); a changed version that no run has used is `updated` (201); ' +
      'the same content again is `unchanged` (200). The definition is checked against the skill catalogue and the registered workflows.',
    scope: 'admin',
    body: {
      name: 'WorkflowDefinition',
      schema: WorkflowDefinition,
      required: true,
      alsoAccepts: YAML_CONTENT_TYPES,
      example: { name: 'acme.greet', version: 1, description: 'Echoes the input, then upper-cases it.', steps: [{ id: 'echo', skill: 'echo' }, { id: 'shout', skill: 'text.uppercase' }] },
    },
    responses: {
      201: { description: 'Registered or updated.', body: { name: 'RegisteredWorkflow', schema: RegisteredWorkflowSchema }, headers: { Location: location('the version') } },
      200: { description: 'Unchanged: this version was already registered with this content.', body: { name: 'RegisteredWorkflow', schema: RegisteredWorkflowSchema }, headers: { Location: location('the version') } },
    },
    errors: [
      { status: 400, codes: ['invalid_definition', 'invalid_yaml'], when: 'The definition failed its checks (each issue names its path and step), or the YAML does not parse.' },
      { status: 403, codes: ['reserved_tenant'], when: 'Registering as tenant `system`.' },
      { status: 409, codes: ['definition_in_use'], when: 'A run has used this version and the content differs: register a new version.' },
      { status: 413, codes: ['payload_too_large'], when: 'A definition over 256 KiB.' },
      { status: 415, codes: ['unsupported_media_type'], when: 'Neither JSON nor YAML.' },
    ],
  },
  {
    method: 'GET',
    path: '/v1/workflows',
    operationId: 'listWorkflows',
    tag: 'Workflows',
    summary: 'List workflow versions',
    description: "The versions the tenant can run: its own and the shared `system` ones (its own shadows a shared one of the same name and version).",
    scope: 'read',
    responses: { 200: { description: 'By name, newest version first.', body: { name: 'WorkflowList', schema: WorkflowListSchema } } },
  },
  {
    method: 'GET',
    path: '/v1/workflows/:name',
    operationId: 'getWorkflowVersions',
    tag: 'Workflows',
    summary: 'The versions of one workflow',
    scope: 'read',
    params: { name: { schema: WorkflowNameParam, description: 'The workflow name.', example: 'demo.shout' } },
    responses: { 200: { description: 'Newest first.', body: { name: 'WorkflowVersions', schema: WorkflowVersionsSchema } } },
  },
  {
    method: 'GET',
    path: '/v1/workflows/:name/versions/:version',
    operationId: 'getWorkflowVersion',
    tag: 'Workflows',
    summary: 'One workflow version with its definition',
    scope: 'read',
    params: {
      name: { schema: WorkflowNameParam, description: 'The workflow name.', example: 'demo.shout' },
      version: { schema: WorkflowVersionParam, description: 'A positive integer.', example: '1' },
    },
    responses: { 200: { description: 'The version and its stored document.', body: { name: 'WorkflowDocument', schema: WorkflowDocumentSchema } } },
  },
  {
    method: 'GET',
    path: '/v1/schemas/workflow-definition.json',
    operationId: 'getWorkflowDefinitionSchema',
    tag: 'Workflows',
    summary: 'JSON Schema of workflow definitions',
    description: 'For editors: `# yaml-language-server: $schema=<gateway>/v1/schemas/workflow-definition.json`.',
    scope: 'public',
    responses: { 200: { description: 'A JSON Schema (draft 2020-12).', content: { 'application/schema+json': { schema: { type: 'object' } } } } },
  },

  // ─── Runs ───────────────────────────────────────────────────────────────────────────────────────────────────
  {
    method: 'GET',
    path: '/v1/runs/:id',
    operationId: 'getRun',
    tag: 'Runs',
    summary: 'A run with its step runs',
    scope: 'read',
    params: { id: id('run', RunId) },
    responses: { 200: { description: 'The run; steps by path.', body: { name: 'Run', schema: RunSchema } } },
  },
  {
    method: 'POST',
    path: '/v1/runs/:id/cancel',
    operationId: 'cancelRun',
    tag: 'Runs',
    summary: 'Cancel a run',
    description: 'Cancels the run, its running skills and its child runs. The workflow-runner carries it out.',
    scope: 'submit',
    params: { id: id('run', RunId) },
    headers: [idempotencyKey],
    body: { name: 'CancelRunBody', schema: CancelRunBody, required: false, example: { reason: 'superseded by a newer change' } },
    responses: { 202: { description: 'The command is on the bus.', body: { name: 'ControlAccepted', schema: ControlAcceptedSchema }, headers: { Location: location('the run') } } },
    errors: [{ status: 409, codes: ['run_finished'], when: 'The run has ended.' }, unavailable],
  },
  {
    method: 'POST',
    path: '/v1/runs/:id/steps/:stepPath/retry',
    operationId: 'retryStep',
    tag: 'Runs',
    summary: 'Retry a parked step',
    scope: 'submit',
    params: { id: id('run', RunId), stepPath: { schema: StepPath, description: 'The step\'s path in the run (URL-encoded).', example: 'build' } },
    headers: [idempotencyKey],
    responses: { 202: { description: 'The command is on the bus.', body: { name: 'ControlAccepted', schema: ControlAcceptedSchema }, headers: { Location: location('the run') } } },
    errors: [
      { status: 404, codes: ['step_not_found'], when: 'The run has no step at that path.' },
      { status: 409, codes: ['run_finished', 'step_not_parked'], when: 'The run has ended, or the step is not parked.' },
      unavailable,
    ],
  },
  {
    method: 'POST',
    path: '/v1/runs/:id/steps/:stepPath/skip',
    operationId: 'skipStep',
    tag: 'Runs',
    summary: 'Skip a parked step',
    description: 'The optional `output` stands in for the step\'s output (null without it).',
    scope: 'submit',
    params: { id: id('run', RunId), stepPath: { schema: StepPath, description: 'The step\'s path in the run (URL-encoded).', example: 'build' } },
    headers: [idempotencyKey],
    body: { name: 'SkipStepBody', schema: SkipStepBody, required: false, example: { output: { skipped: true } } },
    responses: { 202: { description: 'The command is on the bus.', body: { name: 'ControlAccepted', schema: ControlAcceptedSchema }, headers: { Location: location('the run') } } },
    errors: [
      { status: 404, codes: ['step_not_found'], when: 'The run has no step at that path.' },
      { status: 409, codes: ['run_finished', 'step_not_parked'], when: 'The run has ended, or the step is not parked.' },
      unavailable,
    ],
  },

  // ─── Events ─────────────────────────────────────────────────────────────────────────────────────────────────
  {
    method: 'POST',
    path: '/v1/events',
    operationId: 'publishEvent',
    tag: 'Events',
    summary: 'Publish a named event',
    description: 'Wait steps of the tenant waiting for `name` (and `key`, if they give one) resume with `data`.',
    scope: 'submit',
    headers: [idempotencyKey],
    body: { name: 'PublishEventBody', schema: PublishEventBody, required: true, example: { name: 'change.approved', key: 'PR-42', data: { by: 'ada' } } },
    responses: { 202: { description: 'The event is on the bus.', body: { name: 'EventAccepted', schema: EventAcceptedSchema } } },
    errors: [unavailable],
  },

  // ─── Escalations ────────────────────────────────────────────────────────────────────────────────────────────
  {
    method: 'GET',
    path: '/v1/escalations/batches',
    operationId: 'listBatches',
    tag: 'Escalations',
    summary: 'List escalation batches',
    description: 'By status (`sent` by default: what waits for the person), oldest first, each with its decisions.',
    scope: 'read',
    query: BatchStatusQuery,
    responses: { 200: { description: 'The batches.', body: { name: 'BatchList', schema: BatchListSchema } } },
  },
  {
    method: 'GET',
    path: '/v1/escalations/batches/:id',
    operationId: 'getBatch',
    tag: 'Escalations',
    summary: 'One escalation batch',
    scope: 'read',
    params: { id: id('batch', BatchId) },
    responses: { 200: { description: 'The batch with its decisions, most urgent first.', body: { name: 'Batch', schema: BatchSchema } } },
  },
  {
    method: 'POST',
    path: '/v1/escalations/batches/:id/answers',
    operationId: 'answerBatch',
    tag: 'Escalations',
    summary: 'Answer decisions of a batch, or approve them all',
    description: 'Either `answers` (some decisions of the batch) or `approveAll: true` (every open one with its proposal; a review keeps the engine\'s choice).',
    scope: 'answer',
    params: { id: id('batch', BatchId) },
    body: { name: 'AnswerBatchBody', schema: AnswerBatchBody, required: true, example: { approveAll: true, answeredBy: 'ada' } },
    responses: { 202: { description: 'One command per answer is on the bus.', body: { name: 'AnswersAccepted', schema: AnswersAcceptedSchema } } },
    errors: [
      { status: 409, codes: ['decision_closed'], when: 'A decision waits for nobody any more.' },
      { status: 422, codes: ['unknown_option', 'not_in_batch', 'no_proposal'], when: 'A choice is not an option, a decision is of another batch, or an approved decision has no proposal.' },
      unavailable,
    ],
  },
  {
    method: 'GET',
    path: '/v1/decisions',
    operationId: 'listDecisions',
    tag: 'Escalations',
    summary: 'List decisions',
    description: 'Newest first, optionally by status and type: escalated ones and the autonomous ones, to audit.',
    scope: 'read',
    query: DecisionListQuery,
    responses: { 200: { description: 'The decisions.', body: { name: 'DecisionList', schema: DecisionListSchema } } },
  },
  {
    method: 'GET',
    path: '/v1/decisions/:id',
    operationId: 'getDecision',
    tag: 'Escalations',
    summary: 'One decision, with its reasons',
    scope: 'read',
    params: { id: id('decision', DecisionId) },
    responses: { 200: { description: 'The decision.', body: { name: 'Decision', schema: DecisionSchema } } },
  },
  {
    method: 'POST',
    path: '/v1/decisions/:id/answer',
    operationId: 'answerDecision',
    tag: 'Escalations',
    summary: 'Answer a decision',
    description: 'An escalation resolves with the choice; an autonomous decision under review gets its review. The first answer wins.',
    scope: 'answer',
    params: { id: id('decision', DecisionId) },
    body: { name: 'AnswerDecisionBody', schema: AnswerDecisionBody, required: true, example: { choice: 'hold', answeredBy: 'ada' } },
    responses: { 202: { description: 'The answer is on the bus.', body: { name: 'AnswersAccepted', schema: AnswersAcceptedSchema } } },
    errors: [
      { status: 409, codes: ['decision_closed'], when: 'Already answered, decided or reviewed.' },
      { status: 422, codes: ['unknown_option'], when: 'The choice is not one of the decision\'s options.' },
      unavailable,
    ],
  },
  {
    method: 'GET',
    path: '/v1/escalations/preferences',
    operationId: 'listPreferences',
    tag: 'Escalations',
    summary: 'Learned preferences',
    scope: 'read',
    responses: { 200: { description: 'By decision type.', body: { name: 'PreferenceList', schema: PreferenceListSchema } } },
  },
  {
    method: 'POST',
    path: '/v1/escalations/preferences/:id/revoke',
    operationId: 'revokePreference',
    tag: 'Escalations',
    summary: 'Revoke a learned preference',
    scope: 'answer',
    params: { id: { schema: PreferenceId, description: 'The preference\'s id.', example: 'pref-1' } },
    body: { name: 'RevokePreferenceBody', schema: RevokePreferenceBody, required: false, example: { by: 'ada' } },
    responses: { 202: { description: 'The revocation is on the bus.', body: { name: 'PreferenceRevokeAccepted', schema: PreferenceRevokeAcceptedSchema } } },
    errors: [{ status: 409, codes: ['already_revoked'], when: 'The preference is already revoked.' }, unavailable],
  },
  {
    method: 'GET',
    path: '/v1/escalations/policy',
    operationId: 'getPolicy',
    tag: 'Escalations',
    summary: "The tenant's escalation policy",
    description: 'Version 0 with the defaults when the tenant has set none.',
    scope: 'read',
    responses: { 200: { description: 'The current version.', body: { name: 'EscalationPolicyVersion', schema: PolicyVersionSchema } } },
  },
  {
    method: 'PUT',
    path: '/v1/escalations/policy',
    operationId: 'putPolicy',
    tag: 'Escalations',
    summary: 'Set the escalation policy',
    description: 'Stores a new version; omitted fields take the defaults. The escalation service uses it from its next decision.',
    scope: 'admin',
    body: { name: 'EscalationPolicyInput', schema: EscalationPolicy, required: true, example: { mode: 'risk', alpha: 0.02, delta: 0.05, batchSize: 5 } },
    responses: { 200: { description: 'The stored version.', body: { name: 'EscalationPolicyVersion', schema: PolicyVersionSchema } } },
  },
  {
    method: 'GET',
    path: '/v1/escalations/policy/versions',
    operationId: 'listPolicyVersions',
    tag: 'Escalations',
    summary: "The escalation policy's history",
    description: 'Every stored version, newest first, with when it was stored (none while the tenant has set none).',
    scope: 'read',
    query: PolicyVersionsQuery,
    responses: { 200: { description: 'Newest first.', body: { name: 'EscalationPolicyHistory', schema: PolicyHistorySchema } } },
  },
  {
    method: 'DELETE',
    path: '/v1/escalations/policy/rules/:ruleId',
    operationId: 'removePolicyRule',
    tag: 'Escalations',
    summary: 'Remove one hard rule',
    description: 'Stores a new version of the policy without the rule; everything else stays as it was.',
    scope: 'admin',
    params: { ruleId: { schema: RuleId, description: "The rule's id in the policy.", example: 'no-prod-fridays' } },
    responses: { 200: { description: 'The stored version.', body: { name: 'EscalationPolicyVersion', schema: PolicyVersionSchema } } },
  },

  // ─── Skills ─────────────────────────────────────────────────────────────────────────────────────────────────
  {
    method: 'GET',
    path: '/v1/skills',
    operationId: 'listSkills',
    tag: 'Skills',
    summary: 'List skills',
    description: 'Text search (`q`: every word in the name or description), filters, and a cursor (`nextCursor` of the page before).',
    scope: 'read',
    query: SkillListQuery,
    responses: { 200: { description: 'By name.', body: { name: 'SkillList', schema: SkillListSchema } } },
  },
  {
    method: 'GET',
    path: '/v1/skills/:name',
    operationId: 'getSkill',
    tag: 'Skills',
    summary: 'One skill with its schemas',
    scope: 'read',
    params: { name: { schema: SkillName, description: 'The skill name.', example: 'echo' } },
    responses: { 200: { description: 'The skill.', body: { name: 'Skill', schema: SkillSchema } } },
  },

  // ─── Keys ───────────────────────────────────────────────────────────────────────────────────────────────────
  {
    method: 'POST',
    path: '/v1/keys',
    operationId: 'createKey',
    tag: 'Keys',
    summary: 'Issue an API key',
    description: 'The secret is in this answer only; it is stored as a hash.',
    scope: 'admin',
    body: { name: 'CreateKeyBody', schema: CreateKeyBody, required: true, example: { name: 'ci', scopes: ['submit', 'read'] } },
    responses: { 201: { description: 'The key, with its secret.', body: { name: 'IssuedKey', schema: IssuedKeySchema } } },
  },
  {
    method: 'GET',
    path: '/v1/keys',
    operationId: 'listKeys',
    tag: 'Keys',
    summary: "List the tenant's keys",
    description: 'Without secrets or hashes.',
    scope: 'admin',
    responses: { 200: { description: 'Oldest first.', body: { name: 'KeyList', schema: KeyListSchema } } },
  },
  {
    method: 'DELETE',
    path: '/v1/keys/:id',
    operationId: 'revokeKey',
    tag: 'Keys',
    summary: 'Revoke an API key',
    description: 'At once on this gateway, within API_KEY_CACHE_MS on others.',
    scope: 'admin',
    params: { id: { schema: KeyId, description: "The key's id.", example: uuidExample } },
    responses: { 204: { description: 'Revoked.' } },
  },

  // ─── Webhooks ───────────────────────────────────────────────────────────────────────────────────────────────
  {
    method: 'POST',
    path: '/v1/webhooks',
    operationId: 'createWebhook',
    tag: 'Webhooks',
    summary: 'Register a webhook endpoint',
    description:
      'Deliveries of the selected events (names such as `escalation.batch.ready`, any version, or full CloudEvents types), signed as Standard Webhooks with the secret in this answer (shown once). ' +
      'Only public http(s) addresses, unless the gateway allows private ones.',
    scope: 'admin',
    body: { name: 'CreateWebhookBody', schema: CreateWebhookBody, required: true, example: { url: 'https://hooks.example.com/steward', events: ['escalation.batch.ready'], description: 'team inbox' } },
    responses: { 201: { description: 'The endpoint, with its signing secret.', body: { name: 'CreatedWebhook', schema: CreatedWebhook } } },
    errors: [{ status: 409, codes: ['too_many_webhooks'], when: 'The tenant has the most endpoints it may have (25): delete one first.' }],
  },
  {
    method: 'GET',
    path: '/v1/webhooks',
    operationId: 'listWebhooks',
    tag: 'Webhooks',
    summary: "The tenant's webhook endpoints",
    description: 'Without secrets; each with its last delivery.',
    scope: 'admin',
    responses: { 200: { description: 'Oldest first.', body: { name: 'WebhookList', schema: WebhookList } } },
  },
  {
    method: 'DELETE',
    path: '/v1/webhooks/:id',
    operationId: 'deleteWebhook',
    tag: 'Webhooks',
    summary: 'Delete a webhook endpoint',
    scope: 'admin',
    params: { id: id('webhook', WebhookId) },
    responses: { 204: { description: 'Deleted.' } },
  },

  // ─── Operations ─────────────────────────────────────────────────────────────────────────────────────────────
  {
    method: 'GET',
    path: '/healthz',
    operationId: 'healthz',
    tag: 'Operations',
    summary: 'Liveness',
    scope: 'public',
    responses: { 200: { description: 'The process answers.', body: { name: 'Health', schema: HealthSchema } } },
  },
  {
    method: 'GET',
    path: '/readyz',
    operationId: 'readyz',
    tag: 'Operations',
    summary: 'Readiness',
    description: 'NATS and PostgreSQL must answer; Redis is reported but optional.',
    scope: 'public',
    responses: {
      200: { description: 'Ready.', body: { name: 'Readiness', schema: ReadinessSchema } },
      503: { description: 'Not ready, or draining after SIGTERM.', body: { name: 'Readiness', schema: ReadinessSchema } },
    },
  },
  {
    method: 'GET',
    path: '/metrics',
    operationId: 'metrics',
    tag: 'Operations',
    summary: 'Prometheus metrics',
    scope: 'public',
    responses: { 200: { description: 'Prometheus text format.', content: { 'text/plain': { schema: { type: 'string' } } } } },
  },

  // ─── Documentation ──────────────────────────────────────────────────────────────────────────────────────────
  {
    method: 'GET',
    path: '/openapi.json',
    operationId: 'openapi',
    tag: 'Documentation',
    summary: 'This OpenAPI 3.1 document',
    scope: 'public',
    responses: { 200: { description: 'The document.', content: { 'application/json': { schema: { type: 'object' } } } } },
  },
  {
    method: 'GET',
    path: '/docs',
    operationId: 'docsPage',
    tag: 'Documentation',
    summary: 'Interactive API page (Swagger UI)',
    scope: 'public',
    responses: { 200: { description: 'The page.', content: { 'text/html': { schema: { type: 'string' } } } } },
  },
  {
    method: 'GET',
    path: '/docs/:asset',
    operationId: 'docsAsset',
    tag: 'Documentation',
    summary: 'A static file of the API page',
    scope: 'public',
    params: { asset: { schema: z.string().min(1).max(100), description: 'A file of the page, e.g. swagger-ui-bundle.js.', example: 'swagger-ui.css' } },
    responses: { 200: { description: 'The file.', content: { '*/*': { schema: { type: 'string' } } } } },
  },

  // ─── Inbox ──────────────────────────────────────────────────────────────────────────────────────────────────
  {
    method: 'GET',
    path: '/inbox',
    operationId: 'inboxPage',
    tag: 'Inbox',
    summary: 'The escalation inbox page',
    description: 'Static HTML; the page asks for an API key and reads everything through the API. Answers 304 to a matching `If-None-Match`.',
    scope: 'public',
    responses: { 200: { description: 'The page.', content: { 'text/html': { schema: { type: 'string' } } } }, 304: { description: 'Not modified.' } },
  },
  {
    method: 'GET',
    path: '/inbox/:asset',
    operationId: 'inboxAsset',
    tag: 'Inbox',
    summary: 'A static file of the inbox page',
    scope: 'public',
    params: { asset: { schema: z.string().min(1).max(100), description: 'inbox.js, inbox.css or icon.svg.', example: 'inbox.css' } },
    responses: {
      200: { description: 'The file.', content: { '*/*': { schema: { type: 'string' } } } },
      304: { description: 'Not modified.' },
      308: { description: '`index.html` redirects to /inbox.' },
      503: { description: '`inbox_unavailable`: the page\'s files are not installed with this gateway.', body: { name: 'ErrorBody', schema: ErrorBodySchema } },
    },
  },
];
