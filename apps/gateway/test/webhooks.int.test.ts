// Webhooks against a local receiver: registration (secret once, admin only, per tenant), signed deliveries checked
// with an independent HMAC, a retry after a 500 that the endpoint sees once more and its sibling endpoint not at all,
// giving up after WEBHOOK_MAX_ATTEMPTS, and no tenant ever receiving another's events. Real NATS and PostgreSQL.
import type { Envelope } from '@steward/contracts';
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEBHOOK_CONSUMER, WebhookDeliverer } from '../src/webhooks/webhook-deliverer.js';
import type { WebhookView } from '../src/webhooks/webhook.dto.js';
import { startTestGateway, type TestGateway } from './gateway-app.js';
import { batchReady, completed, createTask, progress, publish } from './stream-fixtures.js';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver: records every request; `answers[path]` lists the statuses to give, the last one repeating. */
class Receiver {
  readonly got: Received[] = [];
  readonly answers = new Map<string, number[]>();
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '/';
        this.got.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        const plan = this.answers.get(path) ?? [200];
        res.statusCode = plan.length > 1 ? plan.shift()! : plan[0]!;
        res.end();
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  at(path: string): Received[] {
    return this.got.filter((g) => g.path === path);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

/** Standard Webhooks verification, written out independently of the gateway's code. */
function verify(secret: string, r: Received): boolean {
  const id = r.headers['webhook-id'] as string;
  const ts = r.headers['webhook-timestamp'] as string;
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${ts}.${r.body}`).digest();
  if (Math.abs(Date.now() / 1000 - Number(ts)) > 300) return false;
  return (r.headers['webhook-signature'] as string).split(' ').some((s) => {
    const [v, b64] = s.split(',');
    const got = Buffer.from(b64 ?? '', 'base64');
    return v === 'v1' && got.length === expected.length && timingSafeEqual(got, expected);
  });
}

let gw: TestGateway;
const rx = new Receiver();
let otherAdmin: Record<string, string>;

beforeAll(async () => {
  await rx.start();
  gw = await startTestGateway('gateway_webhooks', { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_RETRY_BASE_MS: '200', WEBHOOK_MAX_ATTEMPTS: '3', WEBHOOK_TIMEOUT_MS: '2000' });
  otherAdmin = await gw.authFor('hooks-other');
});
afterAll(async () => {
  await gw?.stop();
  await rx.stop();
});

const register = async (path: string, events: string[], headers?: Record<string, string>) => {
  const r = await gw.request('POST', '/v1/webhooks', { body: { url: `${rx.url}${path}`, events, description: path }, ...(headers ? { headers } : {}) });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body as unknown as WebhookView & { secret: string };
};
const list = async (headers?: Record<string, string>) => ((await gw.request('GET', '/v1/webhooks', headers ? { headers } : {})).body as unknown as { webhooks: WebhookView[] }).webhooks;

describe('webhooks API', () => {
  it('reads the event stream only while some webhook is registered: the consumer comes with the first and goes with the last', async () => {
    const deliverer = gw.app.get(WebhookDeliverer);
    const { bus } = gw.runtime;
    const consumerExists = () => bus.jsm.consumers.info(bus.streamName('events'), WEBHOOK_CONSUMER).then(() => true, () => false);
    expect(deliverer.reading).toBe(false);
    expect(await consumerExists()).toBe(false);
    const first = await register('/first', ['escalation.batch.ready']);
    const second = await register('/second', ['escalation.batch.ready'], otherAdmin);
    expect(deliverer.reading).toBe(true);
    expect(await consumerExists()).toBe(true);
    expect((await gw.request('DELETE', `/v1/webhooks/${first.id}`)).status).toBe(204);
    expect(deliverer.reading).toBe(true); // another tenant's endpoint remains
    expect((await gw.request('DELETE', `/v1/webhooks/${second.id}`, { headers: otherAdmin })).status).toBe(204);
    expect(deliverer.reading).toBe(false);
    expect(await consumerExists()).toBe(false);
  });

  it('registers an endpoint, returns its secret once, lists it without, deletes it; per tenant and admin only', async () => {
    const created = await register('/api', ['escalation.batch.ready', 'steward.task.completed.v1']);
    expect(created.secret).toMatch(/^whsec_/);
    expect(created).toMatchObject({ url: `${rx.url}/api`, events: ['escalation.batch.ready', 'steward.task.completed.v1'], description: '/api', lastDelivery: null });
    const mine = await list();
    expect(mine.find((w) => w.id === created.id)).toBeDefined();
    expect(JSON.stringify(mine)).not.toContain(created.secret);
    expect((await list(otherAdmin)).map((w) => w.id)).not.toContain(created.id);
    expect((await gw.request('DELETE', `/v1/webhooks/${created.id}`, { headers: otherAdmin })).status).toBe(404);
    const reader = await gw.authFor('default', ['read']);
    expect((await gw.request('GET', '/v1/webhooks', { headers: reader })).status).toBe(403);
    expect((await gw.request('DELETE', `/v1/webhooks/${created.id}`)).status).toBe(204);
    expect((await gw.request('DELETE', `/v1/webhooks/${created.id}`)).status).toBe(404);
    expect((await list()).map((w) => w.id)).not.toContain(created.id);
  });

  it('rejects bad registrations with the zod issues', async () => {
    for (const body of [
      { url: 'ftp://example.com/x', events: ['task.completed'] },
      { url: 'not a url', events: ['task.completed'] },
      { url: 'https://example.com/x', events: [] },
      { url: 'https://example.com/x', events: ['no.such.event'] },
      { url: 'https://example.com/x', events: ['task.completed'], extra: 1 },
    ]) {
      const r = await gw.request('POST', '/v1/webhooks', { body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body).toMatchObject({ error: { code: 'invalid_request' } });
    }
  });
});

describe('deliveries', () => {
  it("POSTs the stored CloudEvent, signed; each tenant gets only its own events of the types it asked for", async () => {
    const a = await register('/a', ['escalation.batch.ready', 'task.completed']);
    const b = await register('/b', ['escalation.batch.ready'], otherAdmin);
    const taskA = await createTask(gw, 'default');
    const taskB = await createTask(gw, 'hooks-other');
    const [batchA, , , doneA, , batchB2] = await publish(gw, [
      batchReady('default'),
      batchReady('hooks-other'),
      progress('default', taskA, 1), // not asked for
      completed('default', taskA),
      completed('hooks-other', taskB), // b did not ask for task.completed
      batchReady('hooks-other'),
    ]);
    await expect.poll(() => rx.at('/a').length + rx.at('/b').length, { timeout: 15_000 }).toBe(4);
    await new Promise((r) => setTimeout(r, 300)); // nothing else arrives
    const atA = rx.at('/a');
    const atB = rx.at('/b');
    expect(atA.map((g) => g.headers['webhook-id']).sort()).toEqual([batchA, doneA].sort());
    expect(atB).toHaveLength(2);
    expect(atB.map((g) => g.headers['webhook-id'])).toContain(batchB2);
    for (const g of atB) expect((JSON.parse(g.body) as Envelope).tenantid).toBe('hooks-other');
    for (const g of atA) {
      expect(verify(a.secret, g)).toBe(true);
      expect(verify(b.secret, g)).toBe(false);
      expect(g.headers['content-type']).toMatch(/^application\/cloudevents\+json/);
      const event = JSON.parse(g.body) as Envelope;
      expect(event.id).toBe(g.headers['webhook-id']);
      expect(event).toMatchObject({ specversion: '1.0', tenantid: 'default' });
    }
    for (const g of atB) expect(verify(b.secret, g)).toBe(true);
    // The body is the message as stored in the stream, byte for byte.
    const stored = (await gw.request('GET', `/v1/tasks/${taskA}/events`)).body as unknown as { events: { event: Envelope }[] };
    expect(JSON.parse(atA.find((g) => g.headers['webhook-id'] === doneA)!.body)).toEqual(stored.events.find((e) => e.event.id === doneA)!.event);
    await expect.poll(async () => (await list()).find((w) => w.id === a.id)?.lastDelivery?.status, { timeout: 5_000 }).toBe('delivered');
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics).toMatch(/steward_webhook_deliveries_total\{outcome="delivered"[^}]*\} [1-9]/);
    await gw.request('DELETE', `/v1/webhooks/${a.id}`);
    await gw.request('DELETE', `/v1/webhooks/${b.id}`, { headers: otherAdmin });
  });

  it('retries after a 500 with the same webhook-id, each attempt signed; a sibling endpoint that took it is not called again', async () => {
    rx.answers.set('/flaky', [500, 200]);
    const flaky = await register('/flaky', ['escalation.batch.ready']);
    const steady = await register('/steady', ['escalation.batch.ready']);
    const [id] = await publish(gw, [batchReady('default')]);
    await expect.poll(() => rx.at('/flaky').length, { timeout: 15_000 }).toBe(2);
    await new Promise((r) => setTimeout(r, 500));
    const tries = rx.at('/flaky');
    expect(tries.map((t) => t.headers['webhook-id'])).toEqual([id, id]);
    for (const t of tries) expect(verify(flaky.secret, t)).toBe(true);
    expect(tries[0]!.body).toBe(tries[1]!.body);
    expect(rx.at('/steady').map((t) => t.headers['webhook-id'])).toEqual([id]);
    const views = await list();
    expect(views.find((w) => w.id === flaky.id)!.lastDelivery).toMatchObject({ status: 'delivered', statusCode: 200, eventId: id, consecutiveFailures: 0 });
    expect(views.find((w) => w.id === steady.id)!.lastDelivery).toMatchObject({ status: 'delivered', statusCode: 200 });
    await expect.poll(() => gw.runtime.prisma.webhookDelivery.count()).toBe(0); // the retry's markers are gone
    await gw.request('DELETE', `/v1/webhooks/${flaky.id}`);
    await gw.request('DELETE', `/v1/webhooks/${steady.id}`);
  });

  it('gives up after WEBHOOK_MAX_ATTEMPTS and records the failure', async () => {
    rx.answers.set('/down', [503]);
    const down = await register('/down', ['task.completed']);
    const task = await createTask(gw, 'default');
    const [id] = await publish(gw, [completed('default', task)]);
    await expect.poll(async () => (await list()).find((w) => w.id === down.id)?.lastDelivery?.status, { timeout: 20_000 }).toBe('failed');
    expect(rx.at('/down').map((t) => t.headers['webhook-id'])).toEqual([id, id, id]);
    expect((await list()).find((w) => w.id === down.id)!.lastDelivery).toMatchObject({ statusCode: 503, error: 'HTTP 503', consecutiveFailures: 3, lastSuccessAt: null });
    await new Promise((r) => setTimeout(r, 1000));
    expect(rx.at('/down')).toHaveLength(3);
    await gw.request('DELETE', `/v1/webhooks/${down.id}`);
  });

  it('does not reach private addresses unless WEBHOOK_ALLOW_PRIVATE is set', async () => {
    const strict = await startTestGateway('gateway_webhooks_strict', { WEBHOOK_RETRY_BASE_MS: '100' });
    try {
      const r = await strict.request('POST', '/v1/webhooks', { body: { url: `${rx.url}/never`, events: ['task.completed'] } });
      expect(r.status).toBe(400);
      expect(JSON.stringify(r.body)).toContain('WEBHOOK_ALLOW_PRIVATE');
      // A row that names a private address anyway (registered when the flag was on) is refused at delivery, not retried.
      const id = randomUUID();
      await strict.runtime.prisma.webhook.create({ data: { id, tenantId: 'default', url: `${rx.url}/never`, events: ['task.completed'], secret: 'whsec_AAAA' } });
      // Registered behind the gateway's back (as by another replica): its next check starts reading the stream.
      await expect.poll(() => strict.app.get(WebhookDeliverer).reading, { timeout: 10_000 }).toBe(true);
      const task = await createTask(strict, 'default');
      await publish(strict, [completed('default', task)]);
      await expect.poll(async () => (await strict.runtime.prisma.webhook.findUnique({ where: { id } }))?.lastStatus, { timeout: 10_000 }).toBe('failed');
      expect((await strict.runtime.prisma.webhook.findUnique({ where: { id } }))?.lastError).toMatch(/not a public address/);
      expect(rx.at('/never')).toHaveLength(0);
    } finally {
      await strict.stop();
    }
  });
});
