// The workflow engine through the five services as processes, on real NATS and PostgreSQL: parallel stages overlap,
// dependencies and conditions hold, retries back off as configured, a non-retryable error parks the run and the
// API resumes it, waits receive events from before and after they began, and cancellation reaches the worker.
import type { Envelope } from '@steward/contracts';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Stack, submit, until, waitForTask } from './harness.js';

let stack: Stack;

const WORKFLOWS = {
  'parallel.yaml': `
name: e2e.parallel
version: 1
stages:
  - steps:
      - { id: prepare, skill: echo, with: { go: true } }
  - parallel: true
    steps:
      - { id: a, skill: util.sleep, with: { ms: 700 }, heartbeat_timeout: 5s }
      - { id: b, skill: util.sleep, with: { ms: 700 }, heartbeat_timeout: 5s }
      - { id: c, skill: util.sleep, with: { ms: 700 }, heartbeat_timeout: 5s }
      - { id: never, skill: echo, when: 'steps.prepare.output.go == false' }
  - steps:
      - { id: join, skill: echo, with: { slept: '\${{ steps.a.output.sleptMs + steps.b.output.sleptMs + steps.c.output.sleptMs }}' } }
      - { id: last, skill: echo, depends_on: [never], with: { skipped: '\${{ steps.never.status }}' } }
outputs:
  slept: '\${{ steps.join.output.slept }}'
  skipped: '\${{ steps.last.output.skipped }}'
`,
  'retry.yaml': `
name: e2e.retry
version: 1
steps:
  - id: flaky
    skill: test.flaky
    with: { succeed_on: 3 }
    retry: { max_attempts: 5, backoff: { type: exponential, initial: 300ms, multiplier: 2, jitter: 0 } }
`,
  'park.yaml': `
name: e2e.park
version: 1
steps:
  - id: strict
    skill: test.flaky
    with: { succeed_on: 2, code: bad_input, retryable: false }
  - { id: after, skill: echo }
`,
  'wait.yaml': `
name: e2e.wait
version: 1
steps:
  - { id: before, wait: { event: e2e.ready, key: '\${{ inputs.key }}', lookback: 10m } }
  - { id: after, wait: { event: e2e.go, key: '\${{ inputs.key }}', timeout: 1m } }
outputs:
  before: '\${{ steps.before.output.data }}'
  after: '\${{ steps.after.output.data }}'
`,
  'cancel.yaml': `
name: e2e.cancel
version: 1
steps:
  - { id: long, skill: util.sleep, with: { ms: 30000 } }
`,
};

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'e2e-workflows-'));
  for (const [file, text] of Object.entries(WORKFLOWS)) await writeFile(join(dir, file), text);
  stack = await Stack.start({ env: { 'skill-worker': { TEST_SKILLS: 'true' }, 'workflow-runner': { WORKFLOWS_DIR: dir, TIMER_POLL_MS: '200' } } });
});
afterAll(async () => {
  await stack?.stop();
});

interface StepView {
  stepPath: string;
  status: string;
  attempt: number;
  startedAt?: string;
  completedAt?: string;
  output?: unknown;
}
async function runOf(taskId: string): Promise<{ id: string; status: string; steps: StepView[] }> {
  const { runs } = (await (await stack.gateway(`/v1/tasks/${taskId}/runs`)).json()) as { runs: { id: string }[] };
  return (await (await stack.gateway(`/v1/runs/${runs[0]!.id}`)).json()) as { id: string; status: string; steps: StepView[] };
}
const start = async (workflow: string, input: Record<string, unknown> = {}) => {
  const r = await submit(stack, { workflow, input });
  expect(r.status).toBe(202);
  return r.body.taskId as string;
};
const ofType = (events: Envelope[], type: string) => events.filter((e) => e.type === `steward.${type}.v1`);

describe('workflow engine end to end', () => {
  it('runs a parallel stage side by side, keeps depends_on order, and skips on a false condition', async () => {
    const taskId = await start('e2e.parallel');
    const { task } = await waitForTask(stack, taskId);
    expect(task.status).toBe('completed');
    expect(task.output).toMatchObject({ skipped: 'skipped' });
    expect((task.output as { slept: number }).slept).toBeGreaterThanOrEqual(2100);
    const steps = Object.fromEntries((await runOf(taskId)).steps.map((s) => [s.stepPath, s]));
    // Observed overlap: each sleeping step started (the worker said so) before any of them completed.
    const started = ['a', 'b', 'c'].map((p) => Date.parse(steps[p]!.startedAt!));
    const completed = ['a', 'b', 'c'].map((p) => Date.parse(steps[p]!.completedAt!));
    expect(Math.max(...started)).toBeLessThan(Math.min(...completed));
    expect(Math.max(...completed) - Math.min(...started)).toBeLessThan(2 * 700);
    // depends_on order: join after every parallel step, prepare before them.
    expect(Date.parse(steps['prepare']!.completedAt!)).toBeLessThanOrEqual(Math.min(...started));
    expect(Date.parse(steps['join']!.completedAt!)).toBeGreaterThanOrEqual(Math.max(...completed));
    expect(steps['never']!.status).toBe('skipped');
    const events = await stack.eventsOf(taskId);
    // Every step that ran says it started: the slow ones with a started report, the quick ones in their result.
    expect(ofType(events, 'step.run.started').map((e) => (e.data as { stepPath: string }).stepPath).sort()).toEqual(['a', 'b', 'c', 'join', 'last', 'prepare']);
    expect(ofType(events, 'step.run.skipped')).toHaveLength(1);
  });

  it('retries with the configured back-off (exponential, no jitter: 300 ms then 600 ms)', async () => {
    const taskId = await start('e2e.retry');
    const { task } = await waitForTask(stack, taskId);
    expect(task).toMatchObject({ status: 'completed', output: { attempt: 3 } });
    const events = await stack.eventsOf(taskId);
    const failed = ofType(events, 'step.run.failed').map((e) => ({ at: Date.parse(e.time), data: e.data as { attempt: number; retryAt: string } }));
    const scheduled = ofType(events, 'step.run.scheduled').map((e) => ({ at: Date.parse(e.time), attempt: (e.data as { attempt: number }).attempt }));
    expect(failed.map((f) => f.data.attempt)).toEqual([1, 2]);
    expect(scheduled.map((s) => s.attempt)).toEqual([1, 2, 3]);
    for (const [i, delay] of [300, 600].entries()) {
      expect(Date.parse(failed[i]!.data.retryAt) - failed[i]!.at).toBeGreaterThanOrEqual(delay - 5);
      const observed = scheduled[i + 1]!.at - failed[i]!.at;
      expect(observed).toBeGreaterThanOrEqual(delay - 5);
      expect(observed).toBeLessThan(delay + 300); // the timer wakes at the due time, not at its next poll
    }
  });

  it('parks at once on a non-retryable error, and the API resumes the run to completion', async () => {
    const taskId = await start('e2e.park');
    const parked = await until('the run to park', async () => {
      const run = await runOf(taskId).catch(() => undefined);
      return run?.status === 'parked' ? run : undefined;
    });
    expect(parked.steps.find((s) => s.stepPath === 'strict')).toMatchObject({ status: 'parked', attempt: 1 });
    expect((await (await stack.gateway(`/v1/tasks/${taskId}`)).json()) as { status: string }).toMatchObject({ status: 'running' });
    const r = await stack.gateway(`/v1/runs/${parked.id}/steps/strict/retry`, { method: 'POST' });
    expect(r.status).toBe(202);
    const { task } = await waitForTask(stack, taskId);
    expect(task).toMatchObject({ status: 'completed', output: { attempt: 2 } });
    const types = (await stack.eventsOf(taskId)).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['steward.step.run.parked.v1', 'steward.workflow.run.parked.v1', 'steward.workflow.run.resumed.v1']));
  });

  it('a wait step receives an event published before it waited (lookback) and one published after', async () => {
    const key = `k-${Date.now()}`;
    const publish = (name: string, data: unknown) => stack.gateway('/v1/events', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, key, data }) });
    expect((await publish('e2e.ready', { early: true })).status).toBe(202);
    await new Promise((r) => setTimeout(r, 300)); // the event is stored before the run starts
    const taskId = await start('e2e.wait', { key });
    await until('the second wait', async () => {
      const run = await runOf(taskId).catch(() => undefined);
      return run?.steps.find((s) => s.stepPath === 'after' && s.status === 'waiting');
    });
    expect((await publish('e2e.go', { late: true })).status).toBe(202);
    const { task } = await waitForTask(stack, taskId);
    expect(task).toMatchObject({ status: 'completed', output: { before: { early: true }, after: { late: true } } });
  });

  it('cancelling a run stops the skill the worker is running and cancels the task', async () => {
    const taskId = await start('e2e.cancel');
    const run = await until('the skill to start', async () => {
      const r = await runOf(taskId).catch(() => undefined);
      return r?.steps.some((s) => s.status === 'scheduled' || s.status === 'running') ? r : undefined;
    });
    await stack.untilWorkerHoldsInvocation();
    const t0 = Date.now();
    expect((await stack.gateway(`/v1/runs/${run.id}/cancel`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'no longer needed' }) })).status).toBe(202);
    const { task } = await waitForTask(stack, taskId);
    expect(task.status).toBe('cancelled');
    // The worker stopped the 30 s sleep and reported it (the command was acked, nothing is left pending).
    const failed = await until('the worker to report the cancellation', async () => ofType(await stack.eventsOf(taskId), 'skill.invocation.failed')[0]);
    expect(failed.data).toMatchObject({ error: { code: 'cancelled' } });
    expect(Date.now() - t0).toBeLessThan(10_000);
  });
});
