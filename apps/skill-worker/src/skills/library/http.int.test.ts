import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healthcheck, httpRequest, SIGNATURE_HEADER, TIMESTAMP_HEADER, webhookNotify } from './http.js';
import { call, ctx, tempRoot } from './test-helpers.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}
const seen: Seen[] = [];
let server: Server;
let base: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  cleanup = (await tempRoot()).cleanup;
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const u = new URL(req.url ?? '/', 'http://x');
      switch (u.pathname) {
        case '/json':
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ hello: 'world', q: u.searchParams.get('q') }));
          return;
        case '/big':
          res.writeHead(200, { 'content-type': 'text/plain' }).end('x'.repeat(10_000));
          return;
        case '/slow':
          setTimeout(() => res.writeHead(200).end('late'), 2_000);
          return;
        case '/redirect':
          res.writeHead(302, { location: '/json' }).end();
          return;
        case '/away':
          res.writeHead(302, { location: 'http://localhost:1/elsewhere' }).end();
          return;
        case '/health':
          res.writeHead(200, { 'content-type': 'text/plain' }).end('status: OK');
          return;
        case '/fail':
          res.writeHead(503).end('down');
          return;
        case '/bad':
          res.writeHead(400).end('no');
          return;
        default:
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ got: body }));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await cleanup();
});

const last = (): Seen => seen[seen.length - 1]!;

describe('data.http.request', () => {
  it('GETs JSON, adds query parameters, sends no idempotency key', async () => {
    const r = await call(httpRequest, { url: `${base}/json`, query: { q: 'a b' } });
    expect(r).toMatchObject({ status: 200, ok: true, json: { hello: 'world', q: 'a b' }, bodyEncoding: 'utf8', replayed: false });
    expect(last().headers['idempotency-key']).toBeUndefined();
  });

  it('POSTs JSON with the Idempotency-Key header and replays the response on retry', async () => {
    const c = ctx('http-post-1');
    const r = await call(httpRequest, { url: `${base}/echo`, method: 'POST', json: { a: 1 } }, c);
    expect(r.json).toEqual({ got: '{"a":1}' });
    expect(last().headers['idempotency-key']).toBe('http-post-1');
    expect(last().headers['content-type']).toBe('application/json');
    const count = seen.length;
    const retry = await call(httpRequest, { url: `${base}/echo`, method: 'POST', json: { a: 1 } }, { ...c, attempt: 2 });
    expect(retry).toEqual({ ...r, replayed: true });
    expect(seen.length).toBe(count); // not sent twice
  });

  it('fails when the response is larger than the cap', async () => {
    await expect(call(httpRequest, { url: `${base}/big`, maxResponseBytes: 1000 })).rejects.toMatchObject({ code: 'response_too_large', retryable: false });
  });

  it('times out with a retryable error', async () => {
    const t0 = Date.now();
    await expect(call(httpRequest, { url: `${base}/slow`, timeoutMs: 200 })).rejects.toMatchObject({ code: 'timeout', retryable: true });
    expect(Date.now() - t0).toBeLessThan(1_500);
  });

  it('enforces the host allow-list, also on redirects', async () => {
    await expect(call(httpRequest, { url: `${base}/json`, allowedHosts: ['example.com'] })).rejects.toMatchObject({ code: 'host_not_allowed' });
    const ok = await call(httpRequest, { url: `${base}/redirect`, allowedHosts: ['127.0.0.1'] });
    expect(ok.url).toBe(`${base}/json`);
    await expect(call(httpRequest, { url: `${base}/away`, allowedHosts: ['127.0.0.1'] })).rejects.toMatchObject({ code: 'host_not_allowed' });
  });

  it('can fail on HTTP errors, retryably for 5xx', async () => {
    expect((await call(httpRequest, { url: `${base}/fail` })).status).toBe(503);
    await expect(call(httpRequest, { url: `${base}/fail`, failOnHttpError: true })).rejects.toMatchObject({ code: 'http_503', retryable: true });
    await expect(call(httpRequest, { url: `${base}/bad`, failOnHttpError: true })).rejects.toMatchObject({ code: 'http_400', retryable: false });
  });

  it('refuses a body on GET and non-http URLs', async () => {
    await expect(call(httpRequest, { url: `${base}/json`, body: 'x' })).rejects.toMatchObject({ code: 'invalid_input' });
    expect(() => httpRequest.input.parse({ url: 'file:///etc/passwd' })).toThrow();
  });

  it('stops when the invocation is aborted', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('cancelled')), 100);
    await expect(call(httpRequest, { url: `${base}/slow` }, ctx('abort', ac.signal))).rejects.toThrow('cancelled');
  });
});

describe('ops.http.healthcheck', () => {
  it('is healthy with the expected status and body', async () => {
    const r = await call(healthcheck, { url: `${base}/health`, expectStatus: [200], bodyContains: 'OK' });
    expect(r).toMatchObject({ healthy: true, status: 200, reason: null, bodyMatched: true });
    expect(r.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('is unhealthy on a bad status, a missing substring, a timeout or no server', async () => {
    expect(await call(healthcheck, { url: `${base}/fail` })).toMatchObject({ healthy: false, status: 503, reason: 'unexpected status 503' });
    expect(await call(healthcheck, { url: `${base}/health`, bodyContains: 'NOPE' })).toMatchObject({ healthy: false, bodyMatched: false });
    expect(await call(healthcheck, { url: `${base}/slow`, timeoutMs: 200 })).toMatchObject({ healthy: false, status: null });
    expect(await call(healthcheck, { url: 'http://127.0.0.1:1/' })).toMatchObject({ healthy: false, status: null });
  });
});

describe('ops.webhook.notify', () => {
  it('signs the body with HMAC-SHA256 over timestamp.body and sends the idempotency key', async () => {
    const c = ctx('hook-1');
    const r = await call(webhookNotify, { url: `${base}/hook`, payload: { event: 'done', n: 1 }, secret: 's3cret' }, c);
    expect(r).toMatchObject({ status: 200, signed: true, replayed: false });
    const req = last();
    expect(req.method).toBe('POST');
    expect(req.headers['idempotency-key']).toBe('hook-1');
    const ts = req.headers[TIMESTAMP_HEADER] as string;
    const expected = `sha256=${createHmac('sha256', 's3cret').update(`${ts}.${req.body}`).digest('hex')}`;
    expect(req.headers[SIGNATURE_HEADER]).toBe(expected);
    expect(JSON.parse(req.body)).toEqual({ event: 'done', n: 1 });
    const count = seen.length;
    expect((await call(webhookNotify, { url: `${base}/hook`, payload: { event: 'done', n: 1 }, secret: 's3cret' }, { ...c, attempt: 2 })).replayed).toBe(true);
    expect(seen.length).toBe(count);
  });

  it('reads the secret from an allowed environment variable and sends unsigned without one', async () => {
    process.env.STEWARD_WEBHOOK_SECRET_TEST = 'envsecret';
    try {
      await call(webhookNotify, { url: `${base}/hook`, payload: [1], secretEnv: 'STEWARD_WEBHOOK_SECRET_TEST' });
      const req = last();
      expect(req.headers[SIGNATURE_HEADER]).toBe(`sha256=${createHmac('sha256', 'envsecret').update(`${req.headers[TIMESTAMP_HEADER] as string}.${req.body}`).digest('hex')}`);
    } finally {
      delete process.env.STEWARD_WEBHOOK_SECRET_TEST;
    }
    expect(() => webhookNotify.input.parse({ url: base, payload: 1, secretEnv: 'DATABASE_URL' })).toThrow();
    const r = await call(webhookNotify, { url: `${base}/hook`, payload: null });
    expect(r.signed).toBe(false);
    expect(last().headers[SIGNATURE_HEADER]).toBeUndefined();
  });

  it('fails retryably on 5xx and for good on 4xx, and records nothing then', async () => {
    const c = ctx('hook-fail');
    await expect(call(webhookNotify, { url: `${base}/fail`, payload: {} }, c)).rejects.toMatchObject({ code: 'webhook_503', retryable: true });
    await expect(call(webhookNotify, { url: `${base}/bad`, payload: {} })).rejects.toMatchObject({ code: 'webhook_400', retryable: false });
    await expect(call(webhookNotify, { url: `${base}/fail`, payload: {} }, c)).rejects.toMatchObject({ code: 'webhook_503' });
  });
});
