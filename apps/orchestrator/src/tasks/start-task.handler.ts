import { makeEvent, type Envelope, type TaskSubmittedV1 } from '@steward/contracts';
import { dispatchNewSkills, type DispatchSkillParams, type SqlClient, type UnitOfWorkContext } from '@steward/state';
import { randomUUID } from 'node:crypto';
import { failTask, SOURCE } from './task-lifecycle.js';

/**
 * task.submitted → the tasks run: single skills are dispatched directly to the skill-workers, workflows are handed
 * to the workflow-runner. Set-wise: one update for all tasks, one insert for all invocations.
 */
export async function startTasks(ctx: UnitOfWorkContext<SqlClient>, events: Envelope<TaskSubmittedV1>[]): Promise<void> {
  const { tx, emit } = ctx;
  const now = new Date();
  const started = await tx.$queryRaw<{ id: string }[]>`
    UPDATE tasks SET status = 'running', started_at = ${now}, updated_at = ${now}
     WHERE id = ANY(${events.map((e) => e.data.taskId)}::text[]) AND status = 'pending' RETURNING id`;
  const startable = new Set(started.map((t) => t.id)); // others were already started, finished or cancelled
  const dispatches: DispatchSkillParams[] = [];
  for (const event of events) {
    const d = event.data;
    if (!startable.delete(d.taskId)) continue;
    const meta = { source: SOURCE, tenantId: d.tenantId, correlationId: d.taskId, subject: d.taskId, causationId: event.id };
    emit(makeEvent('task.started.v1', { taskId: d.taskId, startedAt: now.toISOString() }, meta));
    switch (d.target.kind) {
      case 'skill':
        dispatches.push({ invocationId: randomUUID(), tenantId: d.tenantId, taskId: d.taskId, requester: 'orchestrator', skill: d.target.skill, input: d.input, attempt: 1, source: SOURCE, causationId: event.id });
        break;
      case 'workflow':
        emit(makeEvent('workflow.start.v1', { runId: randomUUID(), taskId: d.taskId, tenantId: d.tenantId, workflow: d.target.workflow, version: d.target.version, input: d.input }, meta));
        break;
    }
  }
  for (const f of await dispatchNewSkills(ctx, dispatches)) {
    await failTask(ctx, f.params.tenantId, f.params.taskId, f.error, f.params.causationId ?? f.params.taskId);
  }
}
