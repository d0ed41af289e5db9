// POST /v1/tasks/:id/cancel through the five services as processes, on real NATS and PostgreSQL: a single-skill task
// and a workflow task, each while its 30 s skill runs on the worker. The gateway sends task.cancel, the orchestrator
// cancels (the skill task at once, the workflow task through its run), and the worker stops the skill.
import type { Envelope } from '@steward/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Stack, eventTypes, submit, until, waitForTask } from './harness.js';

let stack: Stack;

const post = (path: string, body?: unknown) =>
  stack.gateway(path, { method: 'POST', ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}) });
const ofType = (events: Envelope[], type: string) => events.filter((e) => e.type === `steward.${type}.v1`);

beforeAll(async () => {
  stack = await Stack.start();
  const flow = { name: 'e2e.cancel-task', version: 1, steps: [{ id: 'long', skill: 'util.sleep', with: { ms: 30_000 } }, { id: 'after', skill: 'echo' }] };
  expect((await post('/v1/workflows', flow)).status).toBe(201);
}, 300_000); // five services starting from source can take a while on a busy two-core machine
afterAll(async () => {
  await stack?.stop();
});

describe('task cancellation end to end', () => {
  it('cancels a running single-skill task: the task ends cancelled and the worker stops the skill', async () => {
    const r = await submit(stack, { skill: 'util.sleep', input: { ms: 30_000 } });
    expect(r.status).toBe(202);
    const taskId = r.body.taskId as string;
    await until('the task to run', async () => ((await (await stack.gateway(`/v1/tasks/${taskId}`)).json()) as { status: string }).status === 'running' || undefined);
    await stack.untilWorkerHoldsInvocation();

    const t0 = Date.now();
    const cancel = await post(`/v1/tasks/${taskId}/cancel`, { reason: 'no longer needed' });
    expect(cancel.status).toBe(202);
    expect(await cancel.json()).toMatchObject({ taskId, status: 'running' });
    const { task } = await waitForTask(stack, taskId);
    expect(task).toMatchObject({ status: 'cancelled', error: { code: 'cancelled', message: 'no longer needed' } });

    const failed = await until('the worker to report the stopped skill', async () => ofType(await stack.eventsOf(taskId), 'skill.invocation.failed')[0]);
    expect(failed.data).toMatchObject({ error: { code: 'cancelled' } });
    expect(Date.now() - t0).toBeLessThan(10_000);
    const types = eventTypes(await stack.eventsOf(taskId));
    expect(types).toEqual(expect.arrayContaining(['task.cancelled.v1', 'skill.invocation.cancel.v1']));
    expect(types).not.toContain('task.completed.v1');

    // Again: already cancelled, answered 200 and nothing is sent.
    const again = await post(`/v1/tasks/${taskId}/cancel`);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ taskId, status: 'cancelled' });
  });

  it('cancels a running workflow task through its run: the run, its running step and the task end cancelled', async () => {
    const r = await submit(stack, { workflow: 'e2e.cancel-task', input: {} });
    expect(r.status).toBe(202);
    const taskId = r.body.taskId as string;
    const runId = await until('the run\'s skill to start', async () => {
      const { runs } = (await (await stack.gateway(`/v1/tasks/${taskId}/runs`)).json()) as { runs?: { id: string }[] };
      if (!runs?.[0]) return undefined;
      const run = (await (await stack.gateway(`/v1/runs/${runs[0].id}`)).json()) as { steps: { stepPath: string; status: string }[] };
      return run.steps.some((s) => s.stepPath === 'long' && (s.status === 'scheduled' || s.status === 'running')) ? runs[0].id : undefined;
    });
    await stack.untilWorkerHoldsInvocation();

    const t0 = Date.now();
    expect((await post(`/v1/tasks/${taskId}/cancel`, { reason: 'wrong branch' })).status).toBe(202);
    const { task } = await waitForTask(stack, taskId);
    expect(task).toMatchObject({ status: 'cancelled', error: { code: 'cancelled', message: 'wrong branch' } });

    const run = (await (await stack.gateway(`/v1/runs/${runId}`)).json()) as { status: string; steps: { stepPath: string; status: string }[] };
    expect(run.status).toBe('cancelled');
    expect(Object.fromEntries(run.steps.map((s) => [s.stepPath, s.status]))).toEqual({ long: 'cancelled', after: 'cancelled' });
    const failed = await until('the worker to report the stopped skill', async () => ofType(await stack.eventsOf(taskId), 'skill.invocation.failed')[0]);
    expect(failed.data).toMatchObject({ error: { code: 'cancelled' } });
    expect(Date.now() - t0).toBeLessThan(10_000);
    const types = eventTypes(await stack.eventsOf(taskId));
    expect(types).toEqual(expect.arrayContaining(['step.run.cancelled.v1', 'skill.invocation.cancel.v1', 'workflow.run.cancelled.v1', 'task.cancelled.v1']));
  });

  it('refuses to cancel a task that completed (409)', async () => {
    const r = await submit(stack, { skill: 'echo', input: { hello: 'world' } });
    const taskId = r.body.taskId as string;
    expect((await waitForTask(stack, taskId)).task.status).toBe('completed');
    const cancel = await post(`/v1/tasks/${taskId}/cancel`);
    expect(cancel.status).toBe(409);
    expect(await cancel.json()).toMatchObject({ error: { code: 'task_finished' } });
  });
});
