// Secrets never reach the logs: the gateway at debug level, every line captured, while requests carry keys in
// Authorization, a key is issued, a webhook is registered (its signing secret) and then fails to deliver, a task's
// live stream is read, and requests are refused (401, 403, 400). No line may hold a key, the secret, or a header value.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './gateway-app.js';
import { SseClient, completed, createTask, publish } from './stream-fixtures.js';

const lines: string[] = [];
const logged = () => lines.map((l) => JSON.parse(l) as { level: number; msg: string });
let gw: TestGateway;
// A webhook endpoint that always answers 500, so the delivery fails and is logged.
let failing: Server;
let failingUrl = '';

beforeAll(async () => {
  failing = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(500).end('down'));
  });
  await new Promise<void>((r) => failing.listen(0, '127.0.0.1', r));
  failingUrl = `http://127.0.0.1:${(failing.address() as AddressInfo).port}/hook`;
  gw = await startTestGateway('gateway_secrets', { LOG_LEVEL: 'debug', WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_MAX_ATTEMPTS: '1', WEBHOOK_TIMEOUT_MS: '2000' }, { write: (s: string) => void lines.push(s) });
});
afterAll(async () => {
  await gw?.stop();
  failing?.closeAllConnections();
  await new Promise((r) => failing?.close(r));
});

describe('logs', () => {
  it('hold no API key, issued key, webhook secret or authorization header, at debug level and on errors', async () => {
    const admin = await gw.authFor('secrets');
    const authorization = admin['authorization']!;
    const apiKey = authorization.replace(/^Bearer /, '');

    // Requests authenticated by the key.
    expect((await gw.request('GET', '/v1/workflows', { headers: admin })).status).toBe(200);
    expect((await gw.request('GET', '/v1/keys', { headers: admin })).status).toBe(200);

    // A key issued, then used, refused a scope, revoked and refused.
    const created = await gw.request('POST', '/v1/keys', { headers: admin, body: { name: 'leak-check', scopes: ['read'] } });
    expect(created.status).toBe(201);
    const issued = created.body['key'] as string;
    const reader = { authorization: `Bearer ${issued}` };
    expect((await gw.request('GET', '/v1/workflows', { headers: reader })).status).toBe(200);
    expect((await gw.request('POST', '/v1/keys', { headers: reader, body: { name: 'x', scopes: ['admin'] } })).status).toBe(403);

    // A webhook registered (its secret is in the response only) and a delivery to it that fails.
    const hook = await gw.request('POST', '/v1/webhooks', { headers: admin, body: { url: failingUrl, events: ['task.completed'] } });
    expect(hook.status, JSON.stringify(hook.body)).toBe(201);
    const secret = hook.body['secret'] as string;
    expect(secret).toMatch(/^whsec_/);
    const taskId = await createTask(gw, 'secrets');

    // The task's live stream, read with the key in its header (the live hub logs at debug).
    const stream = await SseClient.open(gw, `/v1/tasks/${taskId}/stream`, admin);
    expect(stream.status).toBe(200);
    await publish(gw, [completed('secrets', taskId)]);
    await stream.until((c) => c.ended); // the task's final event ends it
    await expect.poll(() => logged().some((l) => l.msg === 'webhook not delivered'), { timeout: 15_000 }).toBe(true);

    // Requests that fail: a body carrying the secrets refused, the revoked key, an unknown one, another scheme.
    const bad = await gw.request('POST', '/v1/keys', { headers: admin, body: { name: issued, scopes: [secret], key: apiKey } });
    expect(bad.status).toBe(400);
    expect((await gw.request('DELETE', `/v1/keys/${created.body['id'] as string}`, { headers: admin })).status).toBe(204);
    expect((await gw.request('GET', '/v1/workflows', { headers: reader })).status).toBe(401);
    expect((await gw.request('GET', '/v1/workflows', { headers: { authorization: `Bearer ${apiKey}x` } })).status).toBe(401);
    expect((await gw.request('GET', '/v1/workflows', { headers: { authorization: `Basic ${Buffer.from(`u:${secret}`).toString('base64')}` } })).status).toBe(401);

    // The capture saw the gateway at work (debug lines included), so its silence about the secrets means something.
    const msgs = logged().map((l) => l.msg);
    expect(msgs).toEqual(expect.arrayContaining(['starting', 'listening', 'api key issued', 'webhook registered', 'webhook not delivered', 'api key revoked']));
    expect(logged().some((l) => l.level === 20)).toBe(true);

    const all = lines.join('');
    // A key's secret part follows its 12-character prefix (stw_<prefix>_<secret>): neither whole keys nor that part.
    for (const [what, value] of [
      ['the API key', apiKey],
      ['its secret part', apiKey.slice(17)],
      ['the authorization header', authorization],
      ['the issued key', issued],
      ['its secret part', issued.slice(17)],
      ['the webhook secret', secret],
      ['its key material', secret.replace(/^whsec_/, '')],
    ] as const) {
      expect(all.includes(value), `${what} is in the logs`).toBe(false);
    }
  });
});
