// steward tasks list | show <id> | cancel <id>
import { ApiRequestError } from '../api/client.js';
import { ControlAccepted, Run, Task, TaskCancelled, TaskPage, TaskRuns } from '../api/schemas.js';
import type { Ctx } from '../context.js';
import { CliError, EXIT } from '../errors.js';
import { formatDuration, formatRelative, formatTask, shortId, statusColour, table, taskDurationMs, taskTarget } from '../format.js';

export interface TaskListOptions {
  status?: string;
  kind?: string;
  skill?: string;
  workflow?: string;
  session?: string;
  limit?: number;
  cursor?: string;
  json?: boolean;
}

export async function listTasks(ctx: Ctx, o: TaskListOptions): Promise<void> {
  const client = await ctx.client();
  const out = ctx.out(o.json);
  let page;
  try {
    page = await client.get('/v1/tasks', TaskPage, { status: o.status, kind: o.kind, skill: o.skill, workflow: o.workflow, sessionId: o.session, limit: o.limit, cursor: o.cursor });
  } catch (err) {
    if (err instanceof ApiRequestError && err.routeMissing) throw new CliError('this gateway cannot list tasks (no GET /v1/tasks); use `steward tasks show <id>`', EXIT.failed);
    throw err;
  }
  if (out.json) return out.data(page);
  if (page.tasks.length === 0) return out.line('no tasks');
  const now = ctx.now();
  const rows = page.tasks.map((t) => [t.taskId, statusColour(t.status, out.style), t.kind, taskTarget(t), formatRelative(t.createdAt, now), t.startedAt ? formatDuration(taskDurationMs(t, now)) : '']);
  for (const l of table(['TASK', 'STATUS', 'KIND', 'TARGET', 'CREATED', 'TOOK'], rows, out.columns, out.style)) out.line(l);
  if (page.nextCursor) out.line(out.style.dim(`more: steward tasks list --cursor ${page.nextCursor}`));
}

export async function showTask(ctx: Ctx, id: string, o: { json?: boolean }): Promise<void> {
  const client = await ctx.client();
  const out = ctx.out(o.json);
  const task = await client.get(`/v1/tasks/${encodeURIComponent(id)}`, Task);
  const runs: Run[] = [];
  if (task.kind === 'workflow') {
    const list = await client.get(`/v1/tasks/${encodeURIComponent(id)}/runs`, TaskRuns);
    runs.push(...(await Promise.all(list.runs.map((r) => client.get(`/v1/runs/${encodeURIComponent(r.id)}`, Run)))));
  }
  if (out.json) return out.data(task.kind === 'workflow' ? { ...task, runs } : task);
  const now = ctx.now();
  for (const l of formatTask(task, now, out.style)) out.line(l);
  for (const run of runs) {
    out.line();
    out.line(`${out.style.bold(`Run ${run.id}`)}  ${run.workflow.name}@${run.workflow.version}  ${statusColour(run.status, out.style)}${run.parentRunId ? out.style.dim(`  child of ${shortId(run.parentRunId)}`) : ''}`);
    const rows = run.steps.map((s) => {
      const took = s.startedAt ? formatDuration((s.completedAt ? Date.parse(s.completedAt) : now) - Date.parse(s.startedAt)) : '';
      const err = s.error as { code?: string; message?: string } | undefined;
      const note = s.waitFor ? `waiting for ${s.waitFor}` : err?.code ? `${err.code}: ${err.message ?? ''}` : '';
      return [s.stepPath, statusColour(s.status, out.style), String(s.attempt), took, note];
    });
    for (const l of table(['STEP', 'STATUS', 'ATTEMPT', 'TOOK', 'NOTE'], rows, out.columns, out.style)) out.line(`  ${l}`);
  }
}

export async function cancelTask(ctx: Ctx, id: string, o: { reason?: string; json?: boolean }): Promise<void> {
  const client = await ctx.client();
  const out = ctx.out(o.json);
  const body = o.reason ? { reason: o.reason } : {};
  let via = `POST /v1/tasks/${id}/cancel`;
  let before: string | undefined;
  let requestId: string | undefined;
  try {
    const r = (await client.post(`/v1/tasks/${encodeURIComponent(id)}/cancel`, TaskCancelled, body)).data;
    before = r.status;
    requestId = r.requestId;
  } catch (err) {
    if (!(err instanceof ApiRequestError && err.routeMissing)) throw err;
    // An older gateway cancels runs only: cancel the workflow task's root run (its task follows).
    const task = await client.get(`/v1/tasks/${encodeURIComponent(id)}`, Task);
    if (task.kind !== 'workflow') throw new CliError('this gateway can cancel workflow tasks only (no POST /v1/tasks/:id/cancel)', EXIT.failed);
    const { runs } = await client.get(`/v1/tasks/${encodeURIComponent(id)}/runs`, TaskRuns);
    const root = runs.find((r) => r.parentRunId === undefined);
    if (!root) throw new CliError(`task ${id} has no run yet; try again in a moment`, EXIT.failed);
    via = `POST /v1/runs/${root.id}/cancel`;
    before = task.status;
    requestId = (await client.post(`/v1/runs/${encodeURIComponent(root.id)}/cancel`, ControlAccepted, body)).data.requestId;
  }
  const already = before === 'cancelled' && requestId === undefined;
  if (out.json) return out.data({ taskId: id, status: before, ...(requestId ? { requestId } : {}), alreadyCancelled: already, via });
  if (already) return out.line(`task ${id} was already cancelled`);
  out.line(`${out.style.green('✓')} cancel requested for task ${id} (it was ${before ?? '?'})`);
  out.line(out.style.dim(`  it becomes cancelled shortly: steward watch ${id}`));
}
