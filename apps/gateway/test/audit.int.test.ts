// The audit trail read from the retained event stream: a task's events and the tenant-wide query, in stream order,
// as CloudEvents, never another tenant's; cursors page through without loss or repeats. Real NATS and PostgreSQL.
import type { Envelope } from '@steward/contracts';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditPage } from '../src/audit/audit.dto.js';
import { startTestGateway, type TestGateway } from './gateway-app.js';
import { batchReady, completed, createTask, progress, publish } from './stream-fixtures.js';

let gw: TestGateway;
let other: Record<string, string>;
let taskA: string;
let taskB: string;
let taskOther: string;
const ids = { a: [] as string[], b: [] as string[], other: [] as string[], batches: [] as string[] };

beforeAll(async () => {
  gw = await startTestGateway('gateway_audit');
  other = await gw.authFor('audit-other', ['read']);
  taskA = await createTask(gw, 'default');
  taskB = await createTask(gw, 'default');
  taskOther = await createTask(gw, 'audit-other');
  // Interleaved: the three tasks' events and two tenants' batches.
  for (let i = 0; i < 6; i++) {
    ids.a.push(...(await publish(gw, [progress('default', taskA, i)])));
    ids.other.push(...(await publish(gw, [progress('audit-other', taskOther, i)])));
    ids.b.push(...(await publish(gw, [progress('default', taskB, i)])));
  }
  ids.batches.push(...(await publish(gw, [batchReady('default')])));
  await publish(gw, [batchReady('audit-other')]);
  ids.a.push(...(await publish(gw, [completed('default', taskA)])));
  ids.other.push(...(await publish(gw, [completed('audit-other', taskOther)])));
});
afterAll(async () => {
  await gw?.stop();
});

const get = async (path: string, headers?: Record<string, string>) => {
  const r = await gw.request('GET', path, headers ? { headers } : {});
  return { status: r.status, body: r.body as unknown as AuditPage & { taskId?: string; error?: { code: string } } };
};
const increasing = (page: AuditPage) => page.events.every((e, i) => i === 0 || e.sequence > page.events[i - 1]!.sequence);

describe('GET /v1/tasks/:id/events', () => {
  it("returns all of the task's events in stream order, as stored CloudEvents, each with its sequence", async () => {
    const r = await get(`/v1/tasks/${taskA}/events`);
    expect(r.status).toBe(200);
    expect(r.body.taskId).toBe(taskA);
    expect(r.body.events.map((e) => e.event.id)).toEqual(ids.a);
    expect(increasing(r.body)).toBe(true);
    expect(r.body.more).toBe(false);
    const first = r.body.events[0]!.event;
    expect(first).toMatchObject({ specversion: '1.0', type: 'steward.step.run.started.v1', tenantid: 'default', correlationid: taskA, datacontenttype: 'application/json', source: 'steward/test' });
    expect(r.body.events.at(-1)!.event.type).toBe('steward.task.completed.v1');
    // The stored message, exactly: what the stream holds at that sequence.
    const stored = await gw.runtime.bus.jsm.streams.getMessage(gw.runtime.bus.streamName('events'), { seq: r.body.events[0]!.sequence });
    expect(stored!.json<Envelope>()).toEqual(first);
  });

  it('pages with limit and the next cursor without losing or repeating an event', async () => {
    const seen: string[] = [];
    let after: number | undefined;
    for (let i = 0; i < 20; i++) {
      const r = await get(`/v1/tasks/${taskA}/events?limit=2${after !== undefined ? `&after=${after}` : ''}`);
      expect(r.status).toBe(200);
      expect(r.body.events.length).toBeLessThanOrEqual(2);
      seen.push(...r.body.events.map((e) => e.event.id));
      after = r.body.next;
      if (!r.body.more) break;
    }
    expect(seen).toEqual(ids.a);
  });

  it("is 404 for another tenant's task and for an unknown one; another tenant sees only its own", async () => {
    expect((await get(`/v1/tasks/${taskOther}/events`)).status).toBe(404);
    expect((await get(`/v1/tasks/${randomUUID()}/events`)).status).toBe(404);
    expect((await get(`/v1/tasks/${taskA}/events`, other)).status).toBe(404);
    const mine = await get(`/v1/tasks/${taskOther}/events`, other);
    expect(mine.status).toBe(200);
    expect(mine.body.events.map((e) => e.event.id)).toEqual(ids.other);
  });

  it('rejects a bad id or cursor with 400', async () => {
    expect((await get('/v1/tasks/not-a-uuid/events')).status).toBe(400);
    expect((await get(`/v1/tasks/${taskA}/events?after=-1`)).status).toBe(400);
    expect((await get(`/v1/tasks/${taskA}/events?limit=0`)).status).toBe(400);
    expect((await get(`/v1/tasks/${taskA}/events?bogus=1`)).status).toBe(400);
  });
});

describe('GET /v1/audit/events', () => {
  it("returns the tenant's events only, in stream order", async () => {
    const r = await get('/v1/audit/events?limit=1000');
    expect(r.status).toBe(200);
    const events = r.body.events.map((e) => e.event);
    expect(events.every((e) => e.tenantid === 'default')).toBe(true);
    expect(increasing(r.body)).toBe(true);
    const got = new Set(events.map((e) => e.id));
    for (const id of [...ids.a, ...ids.b, ...ids.batches]) expect(got.has(id)).toBe(true);
    for (const id of ids.other) expect(got.has(id)).toBe(false);
    expect(r.body.more).toBe(false);

    const theirs = await get('/v1/audit/events?limit=1000', other);
    expect(theirs.body.events.map((e) => e.event.tenantid)).toEqual(theirs.body.events.map(() => 'audit-other'));
    expect(theirs.body.events.filter((e) => e.event.correlationid === taskOther).map((e) => e.event.id)).toEqual(ids.other);
  });

  it('filters by type names (any version) and full types', async () => {
    const one = await get('/v1/audit/events?types=escalation.batch.ready');
    expect(one.body.events.map((e) => e.event.id)).toEqual(ids.batches);
    const two = await get('/v1/audit/events?types=steward.task.completed.v1,escalation.batch.ready');
    expect(two.body.events.map((e) => e.event.type).sort()).toEqual(['steward.escalation.batch.ready.v1', 'steward.task.completed.v1']);
    expect((await get('/v1/audit/events?types=no.such.event')).status).toBe(400);
    expect((await get('/v1/audit/events?types=skill.invoke')).status).toBe(400); // a command, not in the audit stream
  });

  it('continues after a cursor, and from a time', async () => {
    const all = (await get('/v1/audit/events?limit=1000')).body.events;
    const pivot = all[4]!.sequence;
    const rest = await get(`/v1/audit/events?after=${pivot}&limit=1000`);
    expect(rest.body.events.map((e) => e.sequence)).toEqual(all.slice(5).map((e) => e.sequence));

    // Paging the whole trail three at a time gives the same list.
    const paged: number[] = [];
    let after = 0;
    for (let i = 0; i < 50; i++) {
      const r = await get(`/v1/audit/events?after=${after}&limit=3`);
      paged.push(...r.body.events.map((e) => e.sequence));
      after = r.body.next;
      if (!r.body.more) break;
    }
    expect(paged).toEqual(all.map((e) => e.sequence));

    // A tail that is up to date gets nothing new and keeps its cursor; a new event shows up after it.
    const tail = await get(`/v1/audit/events?after=${after}`);
    expect(tail.body.events).toEqual([]);
    expect(tail.body.next).toBe(after);
    const [late] = await publish(gw, [batchReady('default')]);
    expect((await get(`/v1/audit/events?after=${after}`)).body.events.map((e) => e.event.id)).toEqual([late]);

    const since = await get(`/v1/audit/events?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
    expect(since.status).toBe(200);
    expect(since.body.events).toEqual([]);
    const fromStart = await get(`/v1/audit/events?since=2020-01-01T00:00:00Z&limit=1000`);
    expect(fromStart.body.events.length).toBe(all.length + 1);
    expect((await get('/v1/audit/events?since=yesterday')).status).toBe(400);
    expect((await get('/v1/audit/events?since=2020-01-01T00:00:00Z&after=3')).status).toBe(400);
  });

  it('stops at the scan budget with a cursor to continue', async () => {
    const small = await startTestGateway('gateway_audit_budget', { AUDIT_SCAN_MAX_MESSAGES: '4' });
    try {
      const t = await createTask(small, 'default');
      const published = await publish(small, Array.from({ length: 10 }, (_, i) => progress('default', t, i)));
      const seen: string[] = [];
      let after = 0;
      let pages = 0;
      for (; pages < 10; pages++) {
        const r = await small.request('GET', `/v1/audit/events?after=${after}`);
        const page = r.body as unknown as AuditPage;
        expect(page.events.length).toBeLessThanOrEqual(4);
        seen.push(...page.events.map((e) => e.event.id));
        after = page.next;
        if (!page.more) break;
      }
      expect(seen).toEqual(published);
      expect(pages).toBeGreaterThanOrEqual(2);
    } finally {
      await small.stop();
    }
  });
});
