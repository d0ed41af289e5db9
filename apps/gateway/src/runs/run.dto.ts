import { Id } from '@steward/contracts';
import type { StepRunStatus, WorkflowRunStatus } from '@steward/state';
import { z } from 'zod';

export const RunId = Id;
export const StepPath = z.string().min(1).max(500);

/** POST /v1/runs/:id/cancel body (optional). */
export const CancelRunBody = z.strictObject({ reason: z.string().min(1).max(2000).optional() });
export type CancelRunBody = z.infer<typeof CancelRunBody>;

/** POST /v1/runs/:id/steps/:stepPath/skip body: the output the skipped step stands in with (any JSON; null if absent). */
export const SkipStepBody = z.strictObject({ output: z.unknown().optional() });
export type SkipStepBody = z.infer<typeof SkipStepBody>;

export type ControlAction = { kind: 'retry'; stepPath: string } | { kind: 'skip'; stepPath: string; output: unknown } | { kind: 'cancel'; reason?: string };

/** What the control endpoints answer (202): the command is on the bus; the workflow-runner carries it out. */
export interface ControlAccepted {
  runId: string;
  action: ControlAction['kind'];
  requestId: string;
}

export interface StepRunView {
  id: string;
  stepPath: string;
  status: StepRunStatus;
  attempt: number;
  input?: unknown;
  output?: unknown;
  error?: unknown;
  /** What a waiting step waits for: retry, timer, event, decision, child_run or items. */
  waitFor?: string;
  scheduledAt?: string;
  startedAt?: string;
  completedAt?: string;
  nextAttemptAt?: string;
  deadlineAt?: string;
  updatedAt: string;
}

export interface RunSummaryView {
  id: string;
  taskId: string;
  workflow: { name: string; version: number };
  status: WorkflowRunStatus;
  input: unknown;
  output?: unknown;
  error?: unknown;
  parentRunId?: string;
  createdAt: string;
  startedAt?: string;
  completedAt?: string;
  updatedAt: string;
}

export interface RunView extends RunSummaryView {
  steps: StepRunView[];
}

export interface TaskRunsView {
  taskId: string;
  runs: RunSummaryView[];
}
