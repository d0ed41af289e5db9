// The gateway's task API over HTTP, against real PostgreSQL and NATS JetStream: the list with its filters and keyset
// cursor, cancellation (the task.cancel command on the bus, 200/409 for ended tasks), submission into sessions, and
// tenant isolation on each route. No orchestrator runs here, so submitted tasks stay pending unless a test moves them.
import { startConsumer, type RunningConsumer } from '@steward/bus';
import type { Envelope, TaskCancelV1 } from '@steward/contracts';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestGateway, type TestGateway } from './gateway-app.js';

let gw: TestGateway;
let consumer: RunningConsumer;
const cancels: Envelope<TaskCancelV1>[] = [];

let A: Record<string, string>;
let B: Record<string, string>;
type Body = Record<string, unknown>;
type Summary = { taskId: string; status: string; kind: string; skill?: string; workflow?: { name: string }; sessionId?: string; input?: unknown };

const FLOW = { name: 'acme.list-flow', version: 1, steps: [{ id: 'echo', skill: 'echo' }] };

async function submit(body: Body, headers: Record<string, string> = A): Promise<string> {
  const r = await gw.request('POST', '/v1/tasks', { body, headers });
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  return r.body['taskId'] as string;
}

async function list(query: string, headers: Record<string, string> = A): Promise<{ tasks: Summary[]; nextCursor: string | null }> {
  const r = await gw.request('GET', `/v1/tasks${query}`, { headers });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body as unknown as { tasks: Summary[]; nextCursor: string | null };
}

async function session(headers: Record<string, string> = A): Promise<string> {
  const r = await gw.request('POST', '/v1/sessions', { body: { title: 'work' }, headers });
  expect(r.status).toBe(201);
  return r.body['id'] as string;
}

const issuesOf = (r: { body: Body }) => ((r.body['error'] as { issues?: { path: unknown[] }[] }).issues ?? []).map((i) => i.path.join('.'));


beforeAll(async () => {
  gw = await startTestGateway('gateway_tasks');
  A = await gw.authFor('acme');
  B = await gw.authFor('globex');
  await gw.db.prisma.skill.createMany({
    data: ['echo', 'text.uppercase'].map((name) => ({ name, category: name === 'echo' ? 'core' : 'text', description: name, kind: 'code', sideEffects: 'none', timeoutMs: 1000 })),
  });
  expect((await gw.request('POST', '/v1/workflows', { body: FLOW, headers: A })).status).toBe(201);
  consumer = await startConsumer(gw.runtime.bus, { durable: 'test-task-cancel', stream: 'commands', accepts: ['task.cancel.v1'], handle: async (e) => void cancels.push(e.envelope) });
});
afterAll(async () => {
  await consumer?.stop();
  await gw?.stop();
});

describe('GET /v1/tasks', () => {
  it('lists the tenant\'s tasks newest first, as summaries, filtered by status, kind, skill, workflow and session', async () => {
    const sid = await session();
    const echo1 = await submit({ skill: 'echo', input: { n: 1 } });
    const upper = await submit({ skill: 'text.uppercase', input: { n: 2 } });
    const flow = await submit({ workflow: 'acme.list-flow', input: { n: 3 } });
    const inSession = await submit({ skill: 'echo', input: { n: 4 }, sessionId: sid });
    await submit({ skill: 'echo', input: { other: true } }, B);
    await gw.db.prisma.task.update({ where: { id: upper }, data: { status: 'failed', error: { code: 'boom', message: 'x', retryable: false } } });
    await gw.db.prisma.task.update({ where: { id: flow }, data: { status: 'running', startedAt: new Date() } });

    const all = await list('');
    expect(all.tasks.map((t) => t.taskId)).toEqual([inSession, flow, upper, echo1]);
    expect(all.nextCursor).toBeNull();
    expect(all.tasks[0]).toMatchObject({ taskId: inSession, status: 'pending', kind: 'skill', skill: 'echo', sessionId: sid });
    expect(all.tasks[0]).not.toHaveProperty('input');
    expect(all.tasks[1]).toMatchObject({ kind: 'workflow', workflow: { name: 'acme.list-flow', version: 1 }, status: 'running' });
    expect(all.tasks[2]).toMatchObject({ status: 'failed', error: { code: 'boom' } });

    const ids = async (q: string) => (await list(q)).tasks.map((t) => t.taskId);
    expect(await ids('?status=failed')).toEqual([upper]);
    expect(await ids('?status=running,failed')).toEqual([flow, upper]);
    expect(await ids('?status=running&status=failed')).toEqual([flow, upper]);
    expect(await ids('?kind=workflow')).toEqual([flow]);
    expect(await ids('?kind=skill&status=pending')).toEqual([inSession, echo1]);
    expect(await ids('?skill=echo')).toEqual([inSession, echo1]);
    expect(await ids('?workflow=acme.list-flow')).toEqual([flow]);
    expect(await ids(`?sessionId=${sid}`)).toEqual([inSession]);
    expect(await ids('?skill=no.such')).toEqual([]);

    const one = await gw.request('GET', `/v1/tasks/${inSession}`, { headers: A });
    expect(one.body).toMatchObject({ taskId: inSession, sessionId: sid, input: { n: 4 } });
  });

  it('filters by creation time (both bounds exclusive) and pages with a cursor that survives ties and new tasks', async () => {
    const t = await gw.authFor('paging');
    const base = Date.parse('2026-01-01T00:00:00.000Z');
    // Twelve tasks in six instants, two per instant (ties broken by id).
    const rows = Array.from({ length: 12 }, (_, i) => ({ id: randomUUID(), tenantId: 'paging', kind: 'skill' as const, skill: 'echo', input: { i }, status: 'pending' as const, createdAt: new Date(base + Math.floor(i / 2) * 1000) }));
    await gw.db.prisma.task.createMany({ data: rows });
    const expected = [...rows].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1)).map((r) => r.id);

    const seen: string[] = [];
    let cursor: string | null = '';
    let pages = 0;
    while (cursor !== null) {
      const page = await list(`?limit=5${cursor ? `&cursor=${cursor}` : ''}`, t);
      expect(page.tasks.length).toBeLessThanOrEqual(5);
      seen.push(...page.tasks.map((x) => x.taskId));
      cursor = page.nextCursor;
      if (pages++ === 0) {
        // A task submitted between pages is newer than the cursor: it neither shifts nor repeats the later pages.
        await gw.db.prisma.task.create({ data: { id: randomUUID(), tenantId: 'paging', kind: 'skill', skill: 'echo', input: {}, status: 'pending', createdAt: new Date(base + 60_000) } });
      }
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(expected);

    const window = await list(`?createdAfter=${new Date(base + 1000).toISOString()}&createdBefore=${new Date(base + 4000).toISOString()}`, t);
    expect(window.tasks.map((x) => x.taskId).sort()).toEqual(rows.slice(4, 8).map((r) => r.id).sort());
    expect((await list(`?limit=200&createdBefore=${new Date(base).toISOString()}`, t)).tasks).toEqual([]);
  });

  it('defaults to 50 per page and allows at most 200', async () => {
    await gw.db.prisma.task.createMany({ data: Array.from({ length: 60 }, (_, i) => ({ id: randomUUID(), tenantId: 'many', kind: 'skill' as const, skill: 'echo', input: { i }, status: 'pending' as const })) });
    const many = await gw.authFor('many');
    const first = await list('', many);
    expect(first.tasks).toHaveLength(50);
    expect(first.nextCursor).toEqual(expect.any(String));
    expect((await list(`?cursor=${first.nextCursor}`, many)).tasks).toHaveLength(10);
    expect((await list('?limit=200', many)).tasks).toHaveLength(60);
  });

  it('refuses bad filters with 400 and the zod issues', async () => {
    const cases: [string, string][] = [
      ['?status=done', 'status.0'],
      ['?status=', 'status.0'],
      ['?kind=both', 'kind'],
      ['?limit=0', 'limit'],
      ['?limit=201', 'limit'],
      ['?limit=ten', 'limit'],
      ['?cursor=not-a-cursor', 'cursor'],
      [`?cursor=${Buffer.from('["yesterday","x"]').toString('base64url')}`, 'cursor'],
      ['?createdAfter=2026-13-01', 'createdAfter'],
      ['?skill=Bad Name', 'skill'],
      ['?skill=echo&workflow=acme.list-flow', 'workflow'],
      ['?skill=echo&kind=workflow', 'kind'],
      ['?colour=red', ''],
    ];
    for (const [q, path] of cases) {
      const r = await gw.request('GET', `/v1/tasks${q}`, { headers: A });
      expect(r.status, q).toBe(400);
      expect(r.body, q).toMatchObject({ error: { code: 'invalid_request' } });
      expect(issuesOf(r), q).toContain(path);
    }
  });

  it('shows a tenant only its own tasks, whatever the filters', async () => {
    const sid = await session();
    const mine = await submit({ skill: 'echo', sessionId: sid });
    const theirs = await list('?limit=200', B);
    expect(theirs.tasks.map((t) => t.taskId)).not.toContain(mine);
    expect(theirs.tasks.length).toBeGreaterThan(0);
    expect((await list(`?sessionId=${sid}`, B)).tasks).toEqual([]);
    expect((await gw.request('GET', `/v1/tasks/${mine}`, { headers: B })).status).toBe(404);
  });
});

describe('POST /v1/tasks with an Idempotency-Key', () => {
  it('creates one task for the same request sent again or side by side, stored with its event; another request under the key is 422', async () => {
    const key = `submit-${randomUUID()}`;
    const headers = { ...A, 'idempotency-key': key };
    const answers = await Promise.all(Array.from({ length: 6 }, () => gw.request('POST', '/v1/tasks', { body: { skill: 'echo', input: { same: true } }, headers })));
    for (const r of answers) expect(r.status, JSON.stringify(r.body)).toBe(202);
    const ids = new Set(answers.map((r) => r.body['taskId']));
    expect(ids.size).toBe(1);
    const again = await gw.request('POST', '/v1/tasks', { body: { skill: 'echo', input: { same: true } }, headers });
    expect(again.body['taskId']).toBe([...ids][0]);
    expect(await gw.db.prisma.task.count({ where: { idempotencyKey: key } })).toBe(1);
    const other = await gw.request('POST', '/v1/tasks', { body: { skill: 'echo', input: { same: false } }, headers });
    expect(other.status).toBe(422);
    expect(other.body).toMatchObject({ error: { code: 'idempotency_key_reused' } });
    // The task row and its task.submitted event were written together: the event is on the stream.
    const taskId = [...ids][0] as string;
    const types = async () => ((await gw.request('GET', `/v1/tasks/${taskId}/events`, { headers: A })).body['events'] as { event: { type: string } }[]).map((e) => e.event.type);
    await expect.poll(types, { timeout: 10_000 }).toEqual(['steward.task.submitted.v1']);
  });
});

describe('POST /v1/tasks/:id/cancel', () => {
  it('sends task.cancel to the orchestrator (202) with the reason; an Idempotency-Key repeats the same command id', async () => {
    const taskId = await submit({ skill: 'echo' });
    const r = await gw.request('POST', `/v1/tasks/${taskId}/cancel`, { headers: A, body: { reason: 'changed my mind' } });
    expect(r.status).toBe(202);
    expect(r.headers.get('location')).toBe(`/v1/tasks/${taskId}`);
    expect(r.body).toEqual({ taskId, status: 'pending', requestId: expect.any(String) as string });
    const cmd = await eventually(cancels, (l) => l.find((e) => e.data.requestId === r.body['requestId']));
    expect(cmd.data).toEqual({ requestId: r.body['requestId'], tenantId: 'acme', taskId, reason: 'changed my mind' });
    expect(cmd).toMatchObject({ tenantid: 'acme', correlationid: taskId, type: 'steward.task.cancel.v1' });

    const noBody = await gw.request('POST', `/v1/tasks/${taskId}/cancel`, { headers: A });
    expect(noBody.status).toBe(202);
    expect((await eventually(cancels, (l) => l.find((e) => e.data.requestId === noBody.body['requestId']))).data.reason).toBe('cancelled');

    const headers = { ...A, 'idempotency-key': `cancel-${taskId}` };
    const k1 = await gw.request('POST', `/v1/tasks/${taskId}/cancel`, { headers });
    const k2 = await gw.request('POST', `/v1/tasks/${taskId}/cancel`, { headers });
    expect(k1.status).toBe(202);
    expect(k2.body['requestId']).toBe(k1.body['requestId']);
  });

  it('answers 200 for a task already cancelled (sending nothing), 409 for a completed or failed one', async () => {
    const [cancelled, completed, failed] = [await submit({ skill: 'echo' }), await submit({ skill: 'echo' }), await submit({ skill: 'echo' })];
    await gw.db.prisma.task.update({ where: { id: cancelled }, data: { status: 'cancelled' } });
    await gw.db.prisma.task.update({ where: { id: completed }, data: { status: 'completed', output: {} } });
    await gw.db.prisma.task.update({ where: { id: failed }, data: { status: 'failed' } });
    const before = cancels.length;
    const again = await gw.request('POST', `/v1/tasks/${cancelled}/cancel`, { headers: A });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ taskId: cancelled, status: 'cancelled' });
    for (const id of [completed, failed]) {
      const r = await gw.request('POST', `/v1/tasks/${id}/cancel`, { headers: A });
      expect(r.status).toBe(409);
      expect(r.body).toMatchObject({ error: { code: 'task_finished' } });
    }
    await new Promise((res) => setTimeout(res, 200));
    expect(cancels.slice(before).map((e) => e.data.taskId)).toEqual([]);
  });

  it('refuses a bad id or body with 400 and the issues; an unknown task or another tenant\'s is 404 and sends nothing', async () => {
    const taskId = await submit({ skill: 'echo' });
    const badId = await gw.request('POST', '/v1/tasks/not-a-uuid/cancel', { headers: A });
    expect(badId.status).toBe(400);
    expect(badId.body).toMatchObject({ error: { code: 'invalid_request', issues: [expect.anything()] } });
    for (const body of [{ reason: '' }, { reason: 'x'.repeat(2001) }, { why: 'x' }]) {
      const r = await gw.request('POST', `/v1/tasks/${taskId}/cancel`, { headers: A, body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(issuesOf(r).length).toBe(1);
    }
    const badKey = await gw.request('POST', `/v1/tasks/${taskId}/cancel`, { headers: { ...A, 'idempotency-key': 'has space' } });
    expect(badKey.status).toBe(400);

    const before = cancels.length;
    expect((await gw.request('POST', `/v1/tasks/${randomUUID()}/cancel`, { headers: A })).status).toBe(404);
    const other = await gw.request('POST', `/v1/tasks/${taskId}/cancel`, { headers: B });
    expect(other.status).toBe(404);
    expect(other.body).toMatchObject({ error: { code: 'not_found' } });
    await new Promise((res) => setTimeout(res, 200));
    expect(cancels.slice(before)).toEqual([]);
  });
});

describe('POST /v1/tasks into a session', () => {
  it('attaches the task to an active session of the tenant; another tenant\'s session is unknown (422)', async () => {
    const sid = await session();
    const taskId = await submit({ skill: 'echo', sessionId: sid });
    expect((await gw.db.prisma.task.findUniqueOrThrow({ where: { id: taskId } })).sessionId).toBe(sid);
    for (const sessionId of [await session(B), randomUUID()]) {
      const r = await gw.request('POST', '/v1/tasks', { headers: A, body: { skill: 'echo', sessionId } });
      expect(r.status).toBe(422);
      expect(r.body).toMatchObject({ error: { code: 'unknown_session' } });
    }
    expect((await gw.request('POST', '/v1/tasks', { headers: A, body: { skill: 'echo', sessionId: '' } })).status).toBe(400);
  });

  it('refuses a paused or closed session with 409; an idempotent replay of a task it took before still answers 202', async () => {
    const sid = await session();
    const headers = { ...A, 'idempotency-key': `in-session-${sid}` };
    const first = await gw.request('POST', '/v1/tasks', { headers, body: { skill: 'echo', sessionId: sid } });
    expect(first.status).toBe(202);
    expect((await gw.request('POST', `/v1/sessions/${sid}/pause`, { headers: A })).status).toBe(200);

    const paused = await gw.request('POST', '/v1/tasks', { headers: A, body: { skill: 'echo', sessionId: sid } });
    expect(paused.status).toBe(409);
    expect(paused.body).toMatchObject({ error: { code: 'session_not_active', message: expect.stringContaining('paused') as string } });
    const replay = await gw.request('POST', '/v1/tasks', { headers, body: { skill: 'echo', sessionId: sid } });
    expect(replay.status).toBe(202);
    expect(replay.body['taskId']).toBe(first.body['taskId']);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');

    expect((await gw.request('POST', `/v1/sessions/${sid}/resume`, { headers: A })).status).toBe(200);
    await submit({ skill: 'echo', sessionId: sid });
    expect((await gw.request('POST', `/v1/sessions/${sid}/close`, { headers: A })).status).toBe(200);
    const closed = await gw.request('POST', '/v1/tasks', { headers: A, body: { workflow: 'acme.list-flow', sessionId: sid } });
    expect(closed.status).toBe(409);
    expect(closed.body).toMatchObject({ error: { code: 'session_not_active', message: expect.stringContaining('closed') as string } });
    expect((await list(`?sessionId=${sid}`)).tasks).toHaveLength(2);
  });

  it('answers every submission racing a pause with 202 (and the task is in the session) or 409 (and it is not)', async () => {
    const sid = await session();
    const submissions = Array.from({ length: 30 }, () => gw.request('POST', '/v1/tasks', { headers: A, body: { skill: 'echo', sessionId: sid } }));
    const pause = gw.request('POST', `/v1/sessions/${sid}/pause`, { headers: A });
    const results = await Promise.all(submissions);
    expect((await pause).status).toBe(200);
    expect(results.map((r) => r.status).filter((s) => s !== 202 && s !== 409)).toEqual([]);
    const accepted = results.filter((r) => r.status === 202).map((r) => r.body['taskId'] as string);
    expect((await gw.db.prisma.task.findMany({ where: { sessionId: sid } })).map((t) => t.id).sort()).toEqual([...accepted].sort());
    expect((await gw.request('POST', '/v1/tasks', { headers: A, body: { skill: 'echo', sessionId: sid } })).status).toBe(409);
  });
});
