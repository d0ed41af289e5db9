// ─── Crosses the wire: the one catalogue of every event and command. Do NOT rename a type, subject or stream
// without a migration plan: durable consumers, retained events and dead letters refer to them by name. ───
import type { z } from 'zod';
import * as ev from './events.js';

export const SUBJECT_ROOT = 'steward';

/** JetStream streams. `events` is the audit log (limits retention); `commands` is a work queue. */
export const Streams = {
  events: { name: 'STEWARD_EVENTS', subjects: ['steward.evt.>'], retention: 'limits' },
  commands: { name: 'STEWARD_COMMANDS', subjects: ['steward.cmd.>'], retention: 'workqueue' },
  deadLetters: { name: 'STEWARD_DLQ', subjects: ['steward.dlq.>'], retention: 'limits' },
} as const;
export type StreamKey = keyof typeof Streams;

/** Dead letters of consumer `c` are published on `steward.dlq.<c>`. */
export const deadLetterSubject = (consumer: string): string => `steward.dlq.${consumer}`;

export interface CatalogueEntry<TSchema extends z.ZodType = z.ZodType> {
  /** CloudEvents `type`: `steward.<name>.v<version>`. */
  readonly type: string;
  readonly name: string;
  readonly version: number;
  readonly stream: StreamKey;
  readonly schema: TSchema;
  /** Wildcard that matches every subject of this entry (consumer filters). */
  readonly filter: string;
  /** The concrete subject a given message is published on. */
  subject(data: z.infer<TSchema>): string;
}

function entry<TSchema extends z.ZodType>(
  name: string,
  version: number,
  stream: StreamKey,
  schema: TSchema,
  route?: { filterSuffix: string; suffix: (data: z.infer<TSchema>) => string },
): CatalogueEntry<TSchema> {
  const kind = stream === 'commands' ? 'cmd' : 'evt';
  const base = `${SUBJECT_ROOT}.${kind}.${name}.v${version}`;
  return {
    type: `${SUBJECT_ROOT}.${name}.v${version}`,
    name,
    version,
    stream,
    schema,
    filter: route ? `${base}.${route.filterSuffix}` : base,
    subject: route ? (data) => `${base}.${route.suffix(data)}` : () => base,
  };
}

export const Catalogue = {
  'task.submitted.v1': entry('task.submitted', 1, 'events', ev.TaskSubmittedV1),
  'task.started.v1': entry('task.started', 1, 'events', ev.TaskStartedV1),
  'task.completed.v1': entry('task.completed', 1, 'events', ev.TaskCompletedV1),
  'task.failed.v1': entry('task.failed', 1, 'events', ev.TaskFailedV1),
  'task.cancelled.v1': entry('task.cancelled', 1, 'events', ev.TaskCancelledV1),
  'task.cancel.v1': entry('task.cancel', 1, 'commands', ev.TaskCancelV1),
  'workflow.start.v1': entry('workflow.start', 1, 'commands', ev.WorkflowStartV1),
  'workflow.run.started.v1': entry('workflow.run.started', 1, 'events', ev.WorkflowRunStartedV1),
  'workflow.run.completed.v1': entry('workflow.run.completed', 1, 'events', ev.WorkflowRunCompletedV1),
  'workflow.run.failed.v1': entry('workflow.run.failed', 1, 'events', ev.WorkflowRunFailedV1),
  'workflow.run.parked.v1': entry('workflow.run.parked', 1, 'events', ev.WorkflowRunParkedV1),
  'workflow.run.resumed.v1': entry('workflow.run.resumed', 1, 'events', ev.WorkflowRunResumedV1),
  'workflow.run.cancelled.v1': entry('workflow.run.cancelled', 1, 'events', ev.WorkflowRunCancelledV1),
  'workflow.control.v1': entry('workflow.control', 1, 'commands', ev.WorkflowControlV1),
  'external.event.v1': entry('external.event', 1, 'events', ev.ExternalEventV1),
  'step.run.scheduled.v1': entry('step.run.scheduled', 1, 'events', ev.StepRunScheduledV1),
  'step.run.started.v1': entry('step.run.started', 1, 'events', ev.StepRunStartedV1),
  'step.run.waiting.v1': entry('step.run.waiting', 1, 'events', ev.StepRunWaitingV1),
  'step.run.completed.v1': entry('step.run.completed', 1, 'events', ev.StepRunCompletedV1),
  'step.run.failed.v1': entry('step.run.failed', 1, 'events', ev.StepRunFailedV1),
  'step.run.skipped.v1': entry('step.run.skipped', 1, 'events', ev.StepRunSkippedV1),
  'step.run.parked.v1': entry('step.run.parked', 1, 'events', ev.StepRunParkedV1),
  'step.run.cancelled.v1': entry('step.run.cancelled', 1, 'events', ev.StepRunCancelledV1),
  'skill.invoke.v1': entry('skill.invoke', 1, 'commands', ev.SkillInvokeV1, { filterSuffix: '*', suffix: (d) => d.category }),
  'skill.invocation.completed.v1': entry('skill.invocation.completed', 1, 'events', ev.SkillInvocationCompletedV1, { filterSuffix: '*', suffix: (d) => d.requester }),
  'skill.invocation.failed.v1': entry('skill.invocation.failed', 1, 'events', ev.SkillInvocationFailedV1, { filterSuffix: '*', suffix: (d) => d.requester }),
  'skill.invocation.started.v1': entry('skill.invocation.started', 1, 'events', ev.SkillInvocationProgressV1, { filterSuffix: '*', suffix: (d) => d.requester }),
  'skill.invocation.heartbeat.v1': entry('skill.invocation.heartbeat', 1, 'events', ev.SkillInvocationProgressV1, { filterSuffix: '*', suffix: (d) => d.requester }),
  'skill.invocation.cancel.v1': entry('skill.invocation.cancel', 1, 'events', ev.SkillInvocationCancelV1),
  'decision.requested.v1': entry('decision.requested', 1, 'events', ev.DecisionRequestedV1),
  'decision.resolved.v1': entry('decision.resolved', 1, 'events', ev.DecisionResolvedV1),
  'decision.escalated.v1': entry('decision.escalated', 1, 'events', ev.DecisionEscalatedV1),
  'decision.withdrawn.v1': entry('decision.withdrawn', 1, 'events', ev.DecisionWithdrawnV1),
  'decision.reviewed.v1': entry('decision.reviewed', 1, 'events', ev.DecisionReviewedV1),
  'escalation.batch.ready.v1': entry('escalation.batch.ready', 1, 'events', ev.EscalationBatchReadyV1),
  'escalation.control.v1': entry('escalation.control', 1, 'commands', ev.EscalationControlV1),
} as const;

export type Catalogue = typeof Catalogue;

/** Consumer filters that span several catalogue entries (NATS 2.9 allows one filter per consumer). */
export const Filters = {
  /** Results (completed, failed) and progress (started, heartbeat) of the skill invocations `requester` asked for. */
  skillResultsFor: (requester: 'orchestrator' | 'workflow-runner'): string => `${SUBJECT_ROOT}.evt.skill.invocation.*.v1.${requester}`,
  /** Every workflow run lifecycle event: started, completed, failed, parked, resumed, cancelled. */
  workflowRunLifecycle: `${SUBJECT_ROOT}.evt.workflow.run.*.v1`,
} as const;
export type EventKey = keyof Catalogue;
export type EventData<K extends EventKey> = z.infer<Catalogue[K]['schema']>;

const byType = new Map<string, CatalogueEntry>(Object.values(Catalogue).map((e) => [e.type, e as CatalogueEntry]));

/** The catalogue entry for a CloudEvents `type`, or undefined for an unknown type. */
export function entryForType(type: string): CatalogueEntry | undefined {
  return byType.get(type);
}

/** Keys of the catalogue entries whose subjects a consumer filter selects. */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (f[i] !== '*' && f[i] !== s[i]) return false;
  }
  return f.length === s.length;
}
