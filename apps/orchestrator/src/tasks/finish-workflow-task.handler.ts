import type { Envelope, WorkflowRunCancelledV1, WorkflowRunCompletedV1, WorkflowRunFailedV1 } from '@steward/contracts';
import type { SqlClient, UnitOfWorkContext } from '@steward/state';
import { cancelTask, completeTask, failTask } from './task-lifecycle.js';

export type WorkflowRunEnded =
  | { key: 'workflow.run.completed.v1'; envelope: Envelope<WorkflowRunCompletedV1> }
  | { key: 'workflow.run.failed.v1'; envelope: Envelope<WorkflowRunFailedV1> }
  | { key: 'workflow.run.cancelled.v1'; envelope: Envelope<WorkflowRunCancelledV1> };

/** The root workflow run behind a task ended: the task ends the same way (child runs belong to their parent). */
export async function finishWorkflowTask(ctx: UnitOfWorkContext<SqlClient>, e: WorkflowRunEnded): Promise<void> {
  const { envelope } = e;
  if (envelope.data.parentRunId) return;
  const { tenantid, id } = envelope;
  switch (e.key) {
    case 'workflow.run.completed.v1':
      return completeTask(ctx, tenantid, e.envelope.data.taskId, e.envelope.data.output, id);
    case 'workflow.run.failed.v1':
      return failTask(ctx, tenantid, e.envelope.data.taskId, e.envelope.data.error, id);
    case 'workflow.run.cancelled.v1':
      await cancelTask(ctx, tenantid, e.envelope.data.taskId, e.envelope.data.reason, id);
      return;
  }
}
