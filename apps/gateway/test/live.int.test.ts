// Live updates over server-sent events, against real NATS and PostgreSQL: a task's stream (replay, live, end),
// resume after a disconnect with Last-Event-ID missing nothing and repeating nothing, the escalation stream per
// tenant, heartbeats, limits, and one shared NATS consumer however many clients listen.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './gateway-app.js';
import { SseClient, batchReady, completed, createTask, progress, publish } from './stream-fixtures.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway('gateway_live', { LIVE_HEARTBEAT_MS: '300', LIVE_IDLE_STOP_MS: '200', LIVE_MAX_STREAMS_PER_KEY: '6', WEBHOOKS_ENABLED: 'false' });
});
afterAll(async () => {
  await gw?.stop();
});
// A failed test must not leave its streams open for the next one.
afterEach(async () => {
  await Promise.all(SseClient.opened.splice(0).map((c) => c.close()));
});

const auth = async (tenant = 'default', scopes: ('read' | 'admin')[] = ['read']) => gw.authFor(tenant, scopes);
const idsOf = (c: SseClient) => c.events().map((e) => e.event.id);
const seqsOf = (c: SseClient) => c.events().map((e) => e.sequence);
const strictlyIncreasing = (xs: number[]) => xs.every((x, i) => i === 0 || x > xs[i - 1]!);

/** The ordered consumers (not durables) on the event stream right now. */
async function ephemeralConsumers(): Promise<number> {
  let n = 0;
  for await (const c of gw.runtime.bus.jsm.consumers.list(gw.runtime.bus.streamName('events'))) if (!c.config.durable_name) n++;
  return n;
}

describe('GET /v1/tasks/:id/stream', () => {
  it("replays the task's past events, then streams new ones, and ends after the final event", async () => {
    const headers = await auth();
    const task = await createTask(gw, 'default');
    const before = await publish(gw, [progress('default', task, 0), progress('default', task, 1)]);
    const c = await SseClient.open(gw, `/v1/tasks/${task}/stream`, headers);
    expect(c.status).toBe(200);
    await c.until((x) => x.events().length === 2);
    const live = await publish(gw, [progress('default', task, 2), progress('other-tenant', task, 3), completed('default', task)]);
    await c.until((x) => x.ended);
    expect(idsOf(c)).toEqual([...before, live[0], live[2]]);
    expect(strictlyIncreasing(seqsOf(c))).toBe(true);
    expect(c.messages.at(-1)).toMatchObject({ event: 'end' });
    expect(JSON.parse(c.messages.at(-1)!.data)).toEqual({ taskId: task, status: 'completed' });
    // Each data line is the stored CloudEvent.
    expect(c.events()[0]!.event).toMatchObject({ specversion: '1.0', correlationid: task, tenantid: 'default' });
  });

  it('resumes after a disconnect with Last-Event-ID: exactly the rest, in order, no duplicates', async () => {
    const headers = await auth();
    const task = await createTask(gw, 'default');
    const noise = await createTask(gw, 'default');
    const first = await publish(gw, Array.from({ length: 5 }, (_, i) => progress('default', task, i)));
    const c1 = await SseClient.open(gw, `/v1/tasks/${task}/stream`, headers);
    await c1.until((x) => x.events().length === 5);
    const more = await publish(gw, Array.from({ length: 3 }, (_, i) => progress('default', task, 5 + i)));
    await c1.until((x) => x.events().length === 8);
    // Disconnect having read 6 of the 8 (the client keeps the id of the last one it processed).
    await c1.close();
    const processed = c1.events().slice(0, 6);
    const lastEventId = String(processed.at(-1)!.sequence);

    // While nobody listens: more of the task's events, another task's, another tenant's.
    const whileAway: string[] = [];
    for (let i = 0; i < 4; i++) {
      whileAway.push(...(await publish(gw, [progress('default', task, 10 + i)])));
      await publish(gw, [progress('default', noise, i), progress('someone-else', task, i)]);
    }
    const c2 = await SseClient.open(gw, `/v1/tasks/${task}/stream`, { ...headers, 'last-event-id': lastEventId });
    expect(c2.status).toBe(200);
    const expected = [...first, ...more].slice(6).concat(whileAway);
    await c2.until((x) => x.events().length === expected.length);
    const after = await publish(gw, [progress('default', task, 20), completed('default', task)]);
    await c2.until((x) => x.ended);
    expect(idsOf(c2)).toEqual([...expected, ...after]);
    expect(seqsOf(c2)[0]).toBeGreaterThan(Number(lastEventId));
    expect(strictlyIncreasing(seqsOf(c2))).toBe(true);
    expect([...processed.map((e) => e.event.id), ...idsOf(c2)]).toEqual([...first, ...more, ...whileAway, ...after]);

    // Resuming once more from the final event (the task is finished, as the orchestrator records it): nothing more to
    // say, 204, which also stops EventSource from reconnecting.
    await gw.runtime.prisma.task.update({ where: { id: task }, data: { status: 'completed', completedAt: new Date() } });
    const ended = await SseClient.open(gw, `/v1/tasks/${task}/stream`, { ...headers, 'last-event-id': String(seqsOf(c2).at(-1)) });
    expect(ended.status).toBe(204);
    // ?after= works like the header.
    const viaQuery = await SseClient.open(gw, `/v1/tasks/${task}/stream?after=${seqsOf(c2).at(-3)!}`, headers);
    await viaQuery.until((x) => x.ended);
    expect(idsOf(viaQuery)).toEqual(after);
  });

  it('misses nothing and repeats nothing across many reconnects while events keep coming', async () => {
    const headers = await auth();
    const task = await createTask(gw, 'default');
    const published: string[] = [];
    let stop = false;
    const producer = (async () => {
      for (let i = 0; !stop; i++) {
        published.push(...(await publish(gw, [progress('default', task, i)])));
        if (i % 3 === 0) await publish(gw, [progress('default', 'not-this-task', i)]);
      }
    })();
    const received: { sequence: number; id: string }[] = [];
    let last: string | undefined;
    for (let round = 0; round < 6; round++) {
      const c = await SseClient.open(gw, `/v1/tasks/${task}/stream`, { ...headers, ...(last ? { 'last-event-id': last } : {}) });
      expect(c.status).toBe(200);
      const target = received.length + 5;
      await c.until((x) => received.length + x.events().length >= target, 20_000);
      await c.close();
      for (const e of c.events()) received.push({ sequence: e.sequence, id: e.event.id });
      last = String(received.at(-1)!.sequence);
    }
    stop = true;
    await producer;
    const [final] = await publish(gw, [completed('default', task)]);
    const c = await SseClient.open(gw, `/v1/tasks/${task}/stream`, { ...headers, 'last-event-id': last! });
    await c.until((x) => x.ended, 20_000);
    for (const e of c.events()) received.push({ sequence: e.sequence, id: e.event.id });
    expect(strictlyIncreasing(received.map((r) => r.sequence))).toBe(true);
    expect(received.map((r) => r.id)).toEqual([...published, final]);
  });

  it('answers 404 for an unknown or foreign task, 406 without Accept: text/event-stream, 400 for a bad Last-Event-ID', async () => {
    const headers = await auth();
    const foreign = await createTask(gw, 'live-other');
    expect((await SseClient.open(gw, `/v1/tasks/${foreign}/stream`, headers)).status).toBe(404);
    expect((await SseClient.open(gw, '/v1/tasks/00000000-0000-4000-8000-000000000000/stream', headers)).status).toBe(404);
    const task = await createTask(gw, 'default');
    const plain = await fetch(`${gw.url}/v1/tasks/${task}/stream`, { headers });
    expect(plain.status).toBe(406);
    expect(await plain.json()).toMatchObject({ error: { code: 'not_acceptable' } });
    expect((await SseClient.open(gw, `/v1/tasks/${task}/stream`, { ...headers, 'last-event-id': 'abc' })).status).toBe(400);
    expect((await SseClient.open(gw, `/v1/tasks/${task}/stream`, { authorization: '' })).status).toBe(401);
  });
});

describe('GET /v1/escalations/stream', () => {
  it("streams the tenant's escalation events only, and resumes from Last-Event-ID", async () => {
    const mine = await SseClient.open(gw, '/v1/escalations/stream', await auth());
    const theirs = await SseClient.open(gw, '/v1/escalations/stream', await auth('live-esc-other'));
    expect([mine.status, theirs.status]).toEqual([200, 200]);
    const a = await publish(gw, [batchReady('default'), batchReady('live-esc-other'), progress('default', 'some-task', 1), batchReady('default')]);
    await mine.until((x) => x.events().length === 2);
    await theirs.until((x) => x.events().length === 1);
    expect(idsOf(mine)).toEqual([a[0], a[3]]);
    expect(idsOf(theirs)).toEqual([a[1]]);
    await mine.close();
    const b = await publish(gw, [batchReady('live-esc-other'), batchReady('default')]);
    const resumed = await SseClient.open(gw, '/v1/escalations/stream', { ...(await auth()), 'last-event-id': String(seqsOf(mine)[0]) });
    await resumed.until((x) => x.events().length === 2);
    expect(idsOf(resumed)).toEqual([a[3], b[1]]);
    await theirs.until((x) => x.events().length === 2);
    expect(idsOf(theirs)).toEqual([a[1], b[0]]);
    await Promise.all([resumed.close(), theirs.close()]);
  });

  it('ends the streams of a key when it is revoked', async () => {
    const issued = await gw.request('POST', '/v1/keys', { body: { name: 'watcher', scopes: ['read'] } });
    const c = await SseClient.open(gw, '/v1/escalations/stream', { authorization: `Bearer ${issued.body['key'] as string}` });
    expect(c.status).toBe(200);
    expect((await gw.request('DELETE', `/v1/keys/${issued.body['id'] as string}`)).status).toBe(204);
    await c.until((x) => x.ended, 5_000);
  });

  it('sends heartbeat comments while idle', async () => {
    const c = await SseClient.open(gw, '/v1/escalations/stream', await auth());
    await c.until((x) => x.comments.filter((m) => m === 'ping').length >= 2, 5_000);
    await c.close();
  });
});

describe('resources', () => {
  it('uses one NATS consumer for many clients, none once they have gone, and bounds the streams per key', async () => {
    await expect.poll(ephemeralConsumers, { timeout: 10_000 }).toBe(0);
    const headers = await auth();
    const task = await createTask(gw, 'default');
    const clients = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? SseClient.open(gw, `/v1/tasks/${task}/stream`, headers) : SseClient.open(gw, '/v1/escalations/stream', headers))));
    expect(clients.map((c) => c.status)).toEqual([200, 200, 200, 200, 200, 200]);
    await expect.poll(ephemeralConsumers, { timeout: 10_000 }).toBe(1);
    const refused = await fetch(`${gw.url}/v1/escalations/stream`, { headers: { ...headers, accept: 'text/event-stream' } });
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ error: { code: 'too_many_streams' } });
    const otherKey = await SseClient.open(gw, '/v1/escalations/stream', await auth()); // another key has its own budget
    expect(otherKey.status).toBe(200);
    clients.push(otherKey);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics).toMatch(/steward_live_streams\{kind="escalations"[^}]*\} [4-9]/);
    await Promise.all(clients.map((c) => c.close()));
    await expect.poll(ephemeralConsumers, { timeout: 10_000 }).toBe(0);
    // The key's budget is free again.
    const again = await SseClient.open(gw, '/v1/escalations/stream', headers);
    expect(again.status).toBe(200);
    await again.close();
  });
});
