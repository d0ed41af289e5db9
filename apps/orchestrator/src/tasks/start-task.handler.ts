import { makeEvent, type Envelope, type TaskSubmittedV1 } from '@steward/contracts';
import { dispatchSkill, type UnitOfWorkContext } from '@steward/state';
import { randomUUID } from 'node:crypto';
import { failTask, SOURCE } from './task-lifecycle.js';

/** task.submitted → the task runs: a single skill is dispatched directly, a workflow is handed to the workflow-runner. */
export async function startTask(ctx: UnitOfWorkContext, event: Envelope<TaskSubmittedV1>): Promise<void> {
  const { tx, emit } = ctx;
  const d = event.data;
  const now = new Date();
  const { count } = await tx.task.updateMany({ where: { id: d.taskId, status: 'pending' }, data: { status: 'running', startedAt: now } });
  if (count === 0) return; // already started, finished or cancelled
  const meta = { source: SOURCE, tenantId: d.tenantId, correlationId: d.taskId, subject: d.taskId, causationId: event.id };
  emit(makeEvent('task.started.v1', { taskId: d.taskId, startedAt: now.toISOString() }, meta));
  switch (d.target.kind) {
    case 'skill': {
      const r = await dispatchSkill(ctx, { invocationId: randomUUID(), tenantId: d.tenantId, taskId: d.taskId, requester: 'orchestrator', skill: d.target.skill, input: d.input, attempt: 1, source: SOURCE, causationId: event.id });
      if (!r.ok) await failTask(ctx, d.tenantId, d.taskId, r.error, event.id);
      return;
    }
    case 'workflow':
      emit(makeEvent('workflow.start.v1', { runId: randomUUID(), taskId: d.taskId, tenantId: d.tenantId, workflow: d.target.workflow, version: d.target.version, input: d.input }, meta));
      return;
  }
}
