// Escalation through the five services as processes: a workflow's decision step is escalated, the person answers
// through the gateway, and the run continues with their choice; after enough consistent answers the same kind of
// decision is taken without them, and the event stream explains each resolution.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Stack, submit, until, waitForTask } from './harness.js';

let stack: Stack;

const WORKFLOW = `
name: e2e.review
version: 1
steps:
  - id: decide
    decision:
      type: e2e.merge
      options: [{ id: merge, label: Merge the change }, { id: hold, label: Hold it }]
      proposal: merge
      context: { risk: low, reversible: true, branch: feature, confidence: 0.9 }
  - { id: act, skill: echo, with: { choice: '\${{ steps.decide.output.choice }}', by: '\${{ steps.decide.output.resolvedBy }}' } }
outputs:
  choice: '\${{ steps.act.output.choice }}'
  by: '\${{ steps.act.output.by }}'
`;

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'e2e-escalation-'));
  await writeFile(join(dir, 'review.yaml'), WORKFLOW);
  stack = await Stack.start({ env: { 'workflow-runner': { WORKFLOWS_DIR: dir }, escalation: { TIMER_POLL_MS: '200' } } });
});
afterAll(async () => {
  await stack?.stop();
});

const api = async (method: string, path: string, body?: unknown, tenant?: string): Promise<{ status: number; body: Record<string, unknown> }> => {
  const headers: Record<string, string> = { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(tenant ? { authorization: `Bearer ${await stack.keyFor(tenant)}` } : {}) };
  const r = await stack.gateway(path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
};


interface DecisionView {
  id: string;
  status: string;
  taskId?: string;
  batchId?: string;
  reasons: string[];
  score?: number;
  proposal?: string;
  options: { id: string }[];
}

/** Submits one review task; returns its decision once the escalation service has decided or escalated it. */
async function review(): Promise<{ taskId: string; decision: DecisionView }> {
  const r = await submit(stack, { workflow: 'e2e.review', input: {} });
  expect(r.status).toBe(202);
  const taskId = r.body.taskId as string;
  const decision = await until('the decision', async () => {
    const { body } = await api('GET', '/v1/decisions?limit=20');
    const d = (body.decisions as DecisionView[]).find((x) => x.taskId === taskId);
    return d && d.status !== 'pending' ? d : undefined;
  });
  return { taskId, decision };
}

describe('escalation end to end', () => {
  it('escalates a decision, takes the answer from the gateway, continues the run with it, and later decides alone', async () => {
    // A tenant that accepts 20% autonomous error (so autonomy is earned in a few dozen answers), one question per batch.
    const policy = await api('PUT', '/v1/escalations/policy', { alpha: 0.2, delta: 0.05, batchSize: 1, auditRate: 0 });
    expect(policy).toMatchObject({ status: 200, body: { version: 1 } });
    expect((await api('PUT', '/v1/escalations/policy', { mode: 'sometimes' })).status).toBe(400);

    // 1. Escalated: the batch is sent, the person answers "hold" (not the proposal) and the run goes on with it.
    const first = await review();
    expect(first.decision).toMatchObject({ status: 'escalated', proposal: 'merge' });
    expect(first.decision.reasons.length).toBeGreaterThan(0);
    const batch = await api('GET', `/v1/escalations/batches/${first.decision.batchId}`);
    expect(batch.body).toMatchObject({ status: 'sent', trigger: 'size', decisions: [{ id: first.decision.id }] });
    // Another tenant sees none of it and cannot answer it; malformed answers get a 400 with the issues.
    expect((await api('GET', `/v1/decisions/${first.decision.id}`, undefined, 'intruder')).status).toBe(404);
    expect((await api('GET', `/v1/escalations/batches/${first.decision.batchId}`, undefined, 'intruder')).status).toBe(404);
    expect((await api('POST', `/v1/decisions/${first.decision.id}/answer`, { choice: 'merge' }, 'intruder')).status).toBe(404);
    expect((await api('GET', '/v1/escalations/batches', undefined, 'intruder')).body).toEqual({ batches: [] });
    const bad = await api('POST', `/v1/decisions/${first.decision.id}/answer`, { pick: 'merge' });
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
    expect((await api('POST', `/v1/escalations/batches/${first.decision.batchId}/answers`, { answers: [], approveAll: true })).status).toBe(400);
    expect((await api('GET', '/v1/escalations/batches?status=later')).status).toBe(400);
    expect((await api('POST', `/v1/decisions/${first.decision.id}/answer`, { choice: 'ship-it' })).status).toBe(422);
    expect((await api('POST', `/v1/decisions/${first.decision.id}/answer`, { choice: 'hold', answeredBy: 'ada' })).status).toBe(202);
    // The same answer again: accepted as the same request (202) or, once applied, refused as closed (409).
    expect([202, 409]).toContain((await api('POST', `/v1/decisions/${first.decision.id}/answer`, { choice: 'hold', answeredBy: 'ada' })).status);
    const done = await waitForTask(stack, first.taskId);
    expect(done.task).toMatchObject({ status: 'completed', output: { choice: 'hold', by: 'human' } });
    const resolved = (await stack.eventsOf(first.taskId)).filter((e) => e.type === 'steward.decision.resolved.v1');
    expect(resolved).toHaveLength(1);
    expect(resolved[0]!.data).toMatchObject({ resolvedBy: 'human', choice: 'hold' });
    expect((await api('POST', `/v1/decisions/${first.decision.id}/answer`, { choice: 'merge' })).status).toBe(409);

    // 2. The person keeps approving the proposal through the batch endpoint until the engine has earned autonomy.
    let autonomous: { taskId: string; decision: DecisionView } | undefined;
    for (let i = 0; i < 80 && !autonomous; i++) {
      const next = await review();
      if (next.decision.status === 'resolved') {
        autonomous = next;
        break;
      }
      expect((await api('POST', `/v1/escalations/batches/${next.decision.batchId}/answers`, { approveAll: true })).status).toBe(202);
      expect((await waitForTask(stack, next.taskId)).task).toMatchObject({ status: 'completed', output: { choice: 'merge', by: 'human' } });
    }
    expect(autonomous, 'autonomy earned within 80 consistent answers').toBeDefined();
    const { task } = await waitForTask(stack, autonomous!.taskId);
    expect(task.output).toMatchObject({ choice: 'merge' });
    expect(['autonomous', 'preference']).toContain((task.output as { by: string }).by);
    const [why] = (await stack.eventsOf(autonomous!.taskId)).filter((e) => e.type === 'steward.decision.resolved.v1');
    expect(why!.data).toMatchObject({ choice: 'merge', policyVersion: expect.any(String) as string, score: expect.any(Number) as number });
    expect((why!.data as { reasons: string[] }).reasons.length).toBeGreaterThan(0);
    expect((await api('GET', `/v1/decisions/${autonomous!.decision.id}`)).body).toMatchObject({ status: 'resolved', choice: 'merge', reasons: expect.any(Array) as unknown });
    expect((await api('GET', '/v1/escalations/policy')).body).toMatchObject({ version: 1, policy: { alpha: 0.2, batchSize: 1 } });

    // What it learned is visible, and a person can revoke it.
    const { body: prefs } = await api('GET', '/v1/escalations/preferences');
    const live = (prefs.preferences as { id: string; status: string; choice: string }[]).filter((p) => p.status !== 'revoked');
    expect(live.length).toBeGreaterThan(0);
    expect(live[0]).toMatchObject({ choice: 'merge' });
    expect((await api('POST', `/v1/escalations/preferences/${live[0]!.id}/revoke`, undefined, 'intruder')).status).toBe(404);
    expect((await api('POST', `/v1/escalations/preferences/${live[0]!.id}/revoke`, { by: 'ada' })).status).toBe(202);
    await until('the preference to be revoked', async () => {
      const { body } = await api('GET', '/v1/escalations/preferences');
      return (body.preferences as { id: string; status: string }[]).find((p) => p.id === live[0]!.id && p.status === 'revoked');
    });
  });
});
