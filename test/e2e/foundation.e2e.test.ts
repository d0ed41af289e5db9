import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Stack, eventTypes, submit, waitForTask } from './harness.js';

describe('a task flows end to end through the five services', () => {
  let stack: Stack;
  beforeAll(async () => {
    // A short ack wait so a killed worker's invocation is redelivered within the test.
    stack = await Stack.start({ env: { 'skill-worker': { SKILL_ACK_WAIT_MS: '2000' } } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('runs a single-skill task: 202, then pending → running → completed with the skill output, told by the event stream', async () => {
    const r = await submit(stack, { skill: 'echo', input: { message: 'hello', n: 3 } });
    expect(r.status).toBe(202);
    const taskId = r.body.taskId as string;
    expect(taskId).toMatch(/^[0-9a-f-]{36}$/);
    const { task, seen } = await waitForTask(stack, taskId);
    expect(task.status).toBe('completed');
    expect(task.output).toEqual({ message: 'hello', n: 3 });
    expect(seen.at(-1)).toBe('completed');
    expect(Date.parse(task.createdAt)).toBeLessThanOrEqual(Date.parse(task.startedAt!));
    expect(Date.parse(task.startedAt!)).toBeLessThanOrEqual(Date.parse(task.completedAt!));
    expect(eventTypes(await stack.eventsOf(taskId))).toEqual(['task.submitted.v1', 'task.started.v1', 'skill.invocation.completed.v1', 'task.completed.v1']);
  });

  it('runs the two-step workflow demo.shout: each step feeds the next', async () => {
    const r = await submit(stack, { workflow: 'demo.shout', input: { greeting: 'hello', nested: { who: 'world' } } });
    expect(r.status).toBe(202);
    const taskId = r.body.taskId as string;
    const { task } = await waitForTask(stack, taskId);
    expect(task.status).toBe('completed');
    expect(task.output).toEqual({ greeting: 'HELLO', nested: { who: 'WORLD' } });
    const types = eventTypes(await stack.eventsOf(taskId));
    expect(types[0]).toBe('task.submitted.v1');
    expect(types.filter((t) => t === 'step.run.completed.v1')).toHaveLength(2);
    expect(types.indexOf('workflow.run.started.v1')).toBeLessThan(types.indexOf('workflow.run.completed.v1'));
    expect(types.at(-1)).toBe('task.completed.v1');
  });

  it('returns the same task for a resubmission with the same Idempotency-Key, and refuses the key for another request', async () => {
    const key = `key-${Date.now()}`;
    const a = await submit(stack, { skill: 'echo', input: { a: 1, b: 2 } }, { 'idempotency-key': key });
    const b = await submit(stack, { skill: 'echo', input: { b: 2, a: 1 } }, { 'idempotency-key': key });
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    expect(b.body.taskId).toBe(a.body.taskId);
    expect(b.headers.get('idempotent-replayed')).toBe('true');
    const c = await submit(stack, { skill: 'echo', input: { a: 2 } }, { 'idempotency-key': key });
    expect(c.status).toBe(422);
    expect(c.body).toMatchObject({ error: { code: 'idempotency_key_reused' } });
    await waitForTask(stack, a.body.taskId as string);
    expect(eventTypes(await stack.eventsOf(a.body.taskId as string)).filter((t) => t === 'task.submitted.v1')).toHaveLength(1);
  });

  it('answers bad input with 400 and the zod issues, unknown skills and workflows with 422', async () => {
    const noTarget = await submit(stack, { input: {} });
    expect(noTarget.status).toBe(400);
    expect(noTarget.body).toMatchObject({ error: { code: 'invalid_request' } });
    expect((noTarget.body.error as { issues: unknown[] }).issues.length).toBeGreaterThan(0);

    const badInput = await submit(stack, { skill: 'echo', input: 'not an object' });
    expect(badInput.status).toBe(400);
    expect(JSON.stringify(badInput.body)).toContain('input');

    const extra = await submit(stack, { skill: 'echo', input: {}, surprise: true });
    expect(extra.status).toBe(400);

    const notJson = await submit(stack, '{"skill": ');
    expect(notJson.status).toBe(400);
    expect(notJson.body).toHaveProperty('error.code');

    const unknownSkill = await submit(stack, { skill: 'no.such-skill', input: {} });
    expect(unknownSkill.status).toBe(422);
    expect(unknownSkill.body).toMatchObject({ error: { code: 'unknown_skill' } });

    const unknownWorkflow = await submit(stack, { workflow: 'no.such-workflow', input: {} });
    expect(unknownWorkflow.status).toBe(422);
    expect(unknownWorkflow.body).toMatchObject({ error: { code: 'unknown_workflow' } });

    const badId = await stack.gateway('/v1/tasks/not-a-uuid');
    expect(badId.status).toBe(400);
    const missing = await stack.gateway(`/v1/tasks/${crypto.randomUUID()}`);
    expect(missing.status).toBe(404);
  });

  it('completes a task exactly once when the skill-worker is SIGKILLed in the middle of it', async () => {
    const r = await submit(stack, { skill: 'util.sleep', input: { ms: 1500, tag: 'survivor' } });
    const taskId = r.body.taskId as string;
    // Kill the worker while it holds the invocation (delivered, not acked): mid-skill.
    await stack.untilWorkerHoldsInvocation();
    expect(await stack.kill('skill-worker', 'SIGKILL')).toBeNull();
    const afterKill = await stack.gateway(`/v1/tasks/${taskId}`).then((x) => x.json() as Promise<{ status: string }>);
    expect(afterKill.status).toBe('running');
    await stack.startService('skill-worker');
    const { task } = await waitForTask(stack, taskId);
    expect(task.status).toBe('completed');
    expect(task.output).toMatchObject({ ms: 1500, tag: 'survivor' });
    const types = eventTypes(await stack.eventsOf(taskId));
    expect(types.filter((t) => t === 'task.completed.v1')).toHaveLength(1);
    expect(types.filter((t) => t === 'skill.invocation.completed.v1')).toHaveLength(1);
  });

  it('serves /healthz, /readyz and /metrics on every service, with the bus and outbox metrics', async () => {
    for (const svc of ['gateway', 'orchestrator', 'workflow-runner', 'skill-worker', 'escalation'] as const) {
      expect((await fetch(stack.url(svc, '/healthz'))).status).toBe(200);
      const ready = await fetch(stack.url(svc, '/readyz'));
      expect(ready.status).toBe(200);
      const checks = ((await ready.json()) as { checks: Record<string, string> }).checks;
      expect(checks).toMatchObject({ nats: 'ok', postgres: 'ok' });
      if (svc === 'gateway') expect(checks.redis).toBe('ok');
    }
    const metrics = await (await fetch(stack.url('orchestrator', '/metrics'))).text();
    expect(metrics).toMatch(/steward_events_processed_total\{[^}]*consumer="orchestrator-task-submitted"[^}]*outcome="ok"[^}]*\} [1-9]/);
    expect(metrics).toContain('steward_handler_duration_seconds_bucket');
    expect(metrics).toMatch(/steward_consumer_lag\{[^}]*consumer="orchestrator-task-submitted"/);
    expect(metrics).toMatch(/steward_outbox_backlog\{[^}]*\} \d+/);
  });

  it('drains in-flight work on SIGTERM: the worker finishes the skill it holds, exits 0, and the task completes', async () => {
    const r = await submit(stack, { skill: 'util.sleep', input: { ms: 800, tag: 'drained' } });
    const taskId = r.body.taskId as string;
    await stack.untilWorkerHoldsInvocation();
    expect(await stack.kill('skill-worker', 'SIGTERM')).toBe(0);
    // No worker runs now: the task can only complete if the drained worker published its result before exiting.
    const { task } = await waitForTask(stack, taskId, 10_000);
    expect(task.status).toBe('completed');
    expect(task.output).toMatchObject({ tag: 'drained' });
    await stack.startService('skill-worker');
  });
});
