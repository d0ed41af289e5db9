// API keys, scopes, tenant isolation of keys, rate limits: against the real gateway app, PostgreSQL, NATS and Redis.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listRoutes } from '../src/http/routes.js';
import { startTestGateway, type TestGateway } from './gateway-app.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway('gateway_auth');
});
afterAll(async () => {
  await gw?.stop();
});

/** A concrete path for a route pattern: ids become fresh UUIDs, names a plausible name. */
const concrete = (path: string) => path.replace(/:(\w+)/g, (_, p: string) => (p === 'name' ? 'acme.flow' : p === 'version' ? '1' : p === 'stepPath' ? 'a' : randomUUID()));

describe('authentication', () => {
  it('every route except health, metrics and the schemas demands a key; without one it is 401 with WWW-Authenticate', async () => {
    const routes = listRoutes(gw.app);
    expect(routes.length).toBeGreaterThan(20);
    const open = routes.filter((r) => r.public).map((r) => `${r.method} ${r.path}`).sort();
    expect(open).toEqual(['GET /docs', 'GET /docs/:asset', 'GET /healthz', 'GET /inbox', 'GET /inbox/:asset', 'GET /metrics', 'GET /openapi.json', 'GET /readyz', 'GET /v1/schemas/workflow-definition.json']);
    for (const r of routes.filter((x) => !x.public)) {
      const res = await gw.request(r.method, concrete(r.path), { headers: { authorization: '' }, ...(r.method === 'GET' ? {} : { body: {} }) });
      expect(res.status, `${r.method} ${r.path}`).toBe(401);
      expect(res.body).toMatchObject({ error: { code: 'unauthenticated' } });
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
  });

  it('CORS is off: no route answers a browser from another origin with Access-Control-Allow-Origin', async () => {
    const origin = { origin: 'https://evil.example' };
    const get = await gw.request('GET', '/v1/workflows', { headers: origin });
    expect(get.status).toBe(200);
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await gw.request('OPTIONS', '/v1/tasks', { headers: { ...origin, 'access-control-request-method': 'POST', authorization: '' } });
    expect(preflight.status).toBeGreaterThanOrEqual(400);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('malformed, unknown and wrongly-schemed credentials are 401', async () => {
    for (const authorization of ['Bearer nope', 'Basic dXNlcjpwYXNz', `Bearer stw_aaaaaaaaaaaa_${'x'.repeat(43)}`, 'Bearer', 'stw_x']) {
      expect((await gw.request('GET', '/v1/workflows', { headers: { authorization } })).status, authorization).toBe(401);
    }
  });

  it('each non-public route needs its scope: a key without it gets 403, one with it gets past the guard', async () => {
    const routes = listRoutes(gw.app).filter((r) => !r.public);
    for (const r of routes) expect(r.scope, `${r.method} ${r.path}`).toBeDefined();
    const byScope = new Map<string, Record<string, string>>();
    for (const scope of ['submit', 'read', 'answer', 'admin'] as const) byScope.set(scope, await gw.authFor('scoped', [scope]));
    for (const r of routes) {
      const body = r.method === 'GET' ? {} : { body: {} };
      for (const [scope, headers] of byScope) {
        const res = await gw.request(r.method, concrete(r.path), { headers, ...body });
        const allowed = scope === 'admin' || scope === r.scope;
        if (allowed) expect(res.status, `${scope} → ${r.method} ${r.path}`).not.toBe(403);
        else {
          expect(res.status, `${scope} → ${r.method} ${r.path}`).toBe(403);
          expect(res.body).toMatchObject({ error: { code: 'forbidden' } });
        }
      }
    }
  });
});

describe('keys API', () => {
  it('issues a key once, lists keys without secrets, revokes at once; another tenant cannot see or revoke them', async () => {
    const admin = await gw.authFor('keys-a');
    const created = await gw.request('POST', '/v1/keys', { headers: admin, body: { name: 'ci', scopes: ['submit', 'read'] } });
    expect(created.status).toBe(201);
    const key = created.body['key'] as string;
    expect(key).toMatch(/^stw_[a-z0-9]{12}_[\w-]{43}$/);
    const auth = { authorization: `Bearer ${key}` };
    expect((await gw.request('GET', '/v1/workflows', { headers: auth })).status).toBe(200);
    expect((await gw.request('GET', '/v1/keys', { headers: auth })).status).toBe(403);

    const listed = await gw.request('GET', '/v1/keys', { headers: admin });
    const keys = listed.body['keys'] as Record<string, unknown>[];
    const ci = keys.find((k) => k['id'] === created.body['id'])!;
    expect(ci).toMatchObject({ name: 'ci', scopes: ['submit', 'read'], revokedAt: null });
    expect(JSON.stringify(listed.body)).not.toContain(key.slice(17));
    expect(Object.keys(ci)).not.toContain('hash');
    await expect.poll(async () => (await gw.db.prisma.apiKey.findUnique({ where: { id: ci['id'] as string } }))?.lastUsedAt).not.toBeNull();

    const other = await gw.authFor('keys-b');
    expect((await gw.request('DELETE', `/v1/keys/${ci['id'] as string}`, { headers: other })).status).toBe(404);
    expect(((await gw.request('GET', '/v1/keys', { headers: other })).body['keys'] as unknown[]).map((k) => (k as { id: string }).id)).not.toContain(ci['id']);

    expect((await gw.request('DELETE', `/v1/keys/${ci['id'] as string}`, { headers: admin })).status).toBe(204);
    expect((await gw.request('GET', '/v1/workflows', { headers: auth })).status).toBe(401);
    expect((await gw.request('DELETE', `/v1/keys/${ci['id'] as string}`, { headers: admin })).status).toBe(404);
  });

  it('rejects a bad key request with the zod issues', async () => {
    const r = await gw.request('POST', '/v1/keys', { body: { name: '', scopes: ['root'] } });
    expect(r.status).toBe(400);
    expect((r.body['error'] as { issues: unknown[] }).issues.length).toBe(2);
  });
});

describe('rate limits', () => {
  it('counts per key in Redis and answers 429 with Retry-After past the limit', async () => {
    const limited = await startTestGateway('gateway_rl', { REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', RATE_LIMIT_PER_SECOND: '5' });
    try {
      const a = await limited.authFor('rl');
      const b = await limited.authFor('rl');
      // Align to the start of a second so the burst falls in one window.
      await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5));
      const statuses = await Promise.all(Array.from({ length: 8 }, () => limited.request('GET', '/v1/workflows', { headers: a })));
      const limitedOnes = statuses.filter((s) => s.status === 429);
      expect(limitedOnes.length).toBe(3);
      expect(limitedOnes[0]!.headers.get('retry-after')).toBe('1');
      expect(limitedOnes[0]!.body).toMatchObject({ error: { code: 'rate_limited' } });
      // Another key of the same tenant has its own budget.
      expect((await limited.request('GET', '/v1/workflows', { headers: b })).status).toBe(200);
    } finally {
      await limited.stop();
    }
  });

  it('fails open when Redis is unreachable', async () => {
    const lines: { msg: string; level: number }[] = [];
    const logs = { write: (s: string) => void lines.push(JSON.parse(s) as { msg: string; level: number }) };
    const open = await startTestGateway('gateway_rl_down', { REDIS_URL: 'redis://127.0.0.1:1', RATE_LIMIT_PER_SECOND: '1', LOG_LEVEL: 'warn' }, logs);
    try {
      const statuses = await Promise.all(Array.from({ length: 5 }, () => open.request('GET', '/v1/workflows')));
      expect(statuses.map((s) => s.status)).toEqual([200, 200, 200, 200, 200]);
      expect(lines.filter((l) => l.msg.includes('failing open'))).toEqual([expect.objectContaining({ level: 40, msg: 'rate limiter unavailable (Redis); failing open' })]);
    } finally {
      await open.stop();
    }
  });
});
