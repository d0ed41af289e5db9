import type { Envelope, WorkflowRunCompletedV1, WorkflowRunFailedV1 } from '@steward/contracts';
import type { UnitOfWorkContext } from '@steward/state';
import { completeTask, failTask } from './task-lifecycle.js';

/** The workflow run behind a task ended: the task ends the same way. */
export async function finishWorkflowTask(ctx: UnitOfWorkContext, event: Envelope<WorkflowRunCompletedV1> | Envelope<WorkflowRunFailedV1>, kind: 'completed' | 'failed'): Promise<void> {
  if (kind === 'completed') return completeTask(ctx, event.tenantid, event.data.taskId, (event.data as WorkflowRunCompletedV1).output, event.id);
  return failTask(ctx, event.tenantid, event.data.taskId, (event.data as WorkflowRunFailedV1).error, event.id);
}
