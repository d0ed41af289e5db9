// Sessions and their context store over HTTP, against real PostgreSQL: the state machine (active ⇄ paused → closed),
// counts, the cursor, context entries (upsert, relevance order, access counts under concurrency, expiry and purge,
// the size limit), bad input as 400 with the zod issues, and tenant isolation on every route.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContextPurger } from '../src/sessions/context-purger.js';
import { startTestGateway, type TestGateway } from './gateway-app.js';

let gw: TestGateway;
let A: Record<string, string>;
let B: Record<string, string>;
type Body = Record<string, unknown>;
type Entry = { key: string; value: unknown; type: string; relevance: number; accessCount: number; lastAccessedAt?: string; expiresAt?: string; createdAt: string; updatedAt: string };

const aString = expect.any(String) as string;
const issuesOf = (r: { body: Body }) => ((r.body['error'] as { issues?: { path: unknown[] }[] }).issues ?? []).map((i) => i.path.join('.'));

async function create(title = 'quarterly close', headers = A): Promise<string> {
  const r = await gw.request('POST', '/v1/sessions', { body: { title }, headers });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body['id'] as string;
}

async function put(sid: string, key: string, body: Body, headers = A) {
  return gw.request('PUT', `/v1/sessions/${sid}/context/${key}`, { body, headers });
}

/** Makes an entry expired as of now, without waiting for its TTL. */
async function expire(sid: string, key: string): Promise<void> {
  await gw.db.prisma.contextEntry.update({ where: { sessionId_key: { sessionId: sid, key } }, data: { expiresAt: new Date(Date.now() - 1000) } });
}

beforeAll(async () => {
  gw = await startTestGateway('gateway_sessions');
  A = await gw.authFor('acme');
  B = await gw.authFor('globex');
});
afterAll(async () => {
  await gw?.stop();
});

describe('sessions', () => {
  it('creates a session (201, active) and reads it with its counts', async () => {
    const r = await gw.request('POST', '/v1/sessions', { body: { title: '  migrate billing  ' }, headers: A });
    expect(r.status).toBe(201);
    expect(r.body).toEqual({ id: aString, title: 'migrate billing', status: 'active', createdAt: aString, updatedAt: aString });
    expect(r.headers.get('location')).toBe(`/v1/sessions/${r.body['id'] as string}`);
    const sid = r.body['id'] as string;

    await gw.db.prisma.skill.create({ data: { name: 'echo', category: 'core', description: 'echo', kind: 'code', sideEffects: 'none', timeoutMs: 1000 } });
    for (let i = 0; i < 2; i++) expect((await gw.request('POST', '/v1/tasks', { body: { skill: 'echo', sessionId: sid }, headers: A })).status).toBe(202);
    for (const key of ['a', 'b', 'gone']) expect((await put(sid, key, { value: key })).status).toBe(201);
    await expire(sid, 'gone');

    const got = await gw.request('GET', `/v1/sessions/${sid}`, { headers: A });
    expect(got.status).toBe(200);
    expect(got.body).toEqual({ ...r.body, counts: { tasks: 2, entries: 2 } });
  });

  it('lists the tenant\'s sessions newest first, by status, a page at a time', async () => {
    const t = await gw.authFor('listing');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await create(`s${i}`, t));
    expect((await gw.request('POST', `/v1/sessions/${ids[1]!}/pause`, { headers: t })).status).toBe(200);
    expect((await gw.request('POST', `/v1/sessions/${ids[3]!}/close`, { headers: t })).status).toBe(200);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const r = await gw.request('GET', `/v1/sessions?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { headers: t });
      expect(r.status).toBe(200);
      seen.push(...(r.body['sessions'] as { id: string }[]).map((s) => s.id));
      cursor = r.body['nextCursor'] as string | null;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());

    const by = async (status: string) => ((await gw.request('GET', `/v1/sessions?status=${status}`, { headers: t })).body['sessions'] as { id: string }[]).map((s) => s.id);
    expect(await by('paused')).toEqual([ids[1]]);
    expect(await by('closed')).toEqual([ids[3]]);
    expect(await by('active,paused')).toEqual([ids[4], ids[2], ids[1], ids[0]]);
  });

  it('moves active ⇄ paused → closed; repeating a state answers it unchanged; closed is final (409)', async () => {
    const sid = await create();
    const act = async (action: string) => gw.request('POST', `/v1/sessions/${sid}/${action}`, { headers: A });

    expect((await act('resume')).body).toMatchObject({ status: 'active' }); // already active: unchanged
    const paused = await act('pause');
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ id: sid, status: 'paused' });
    expect((await act('pause')).body).toMatchObject({ status: 'paused' });
    expect((await act('resume')).body).toMatchObject({ status: 'active' });
    expect((await act('pause')).status).toBe(200);
    const closed = await act('close'); // from paused
    expect(closed.status).toBe(200);
    expect(closed.body).toMatchObject({ status: 'closed', closedAt: aString });
    expect((await act('close')).status).toBe(200);
    for (const action of ['pause', 'resume']) {
      const r = await act(action);
      expect(r.status, action).toBe(409);
      expect(r.body).toMatchObject({ error: { code: 'illegal_transition', message: expect.stringContaining('closed is final') as string } });
    }
    expect((await gw.request('GET', `/v1/sessions/${sid}`, { headers: A })).body).toMatchObject({ status: 'closed' });
  });

  it('lets exactly one of two racing transitions win: pause and close at once never end paused-after-closed', async () => {
    for (let i = 0; i < 5; i++) {
      const sid = await create();
      const [p, c] = await Promise.all([gw.request('POST', `/v1/sessions/${sid}/pause`, { headers: A }), gw.request('POST', `/v1/sessions/${sid}/close`, { headers: A })]);
      expect(c.status).toBe(200);
      expect([200, 409]).toContain(p.status);
      expect((await gw.db.prisma.session.findUniqueOrThrow({ where: { id: sid } })).status).toBe('closed');
    }
  });

  it('refuses bad input with 400 and the zod issues', async () => {
    const sid = await create();
    const cases: [string, string, unknown, string][] = [
      ['POST', '/v1/sessions', {}, 'title'],
      ['POST', '/v1/sessions', { title: '   ' }, 'title'],
      ['POST', '/v1/sessions', { title: 'x'.repeat(201) }, 'title'],
      ['POST', '/v1/sessions', { title: 'ok', owner: 'me' }, ''],
      ['GET', '/v1/sessions?status=open', undefined, 'status.0'],
      ['GET', '/v1/sessions?limit=500', undefined, 'limit'],
      ['GET', '/v1/sessions?cursor=abc', undefined, 'cursor'],
      ['GET', '/v1/sessions/not-a-uuid', undefined, ''],
      ['POST', '/v1/sessions/not-a-uuid/pause', undefined, ''],
      ['POST', '/v1/sessions/not-a-uuid/resume', undefined, ''],
      ['POST', '/v1/sessions/not-a-uuid/close', undefined, ''],
      ['PUT', `/v1/sessions/${sid}/context/k`, {}, 'value'],
      ['PUT', `/v1/sessions/${sid}/context/k`, { value: 1, relevance: 1.5 }, 'relevance'],
      ['PUT', `/v1/sessions/${sid}/context/k`, { value: 1, relevance: -0.1 }, 'relevance'],
      ['PUT', `/v1/sessions/${sid}/context/k`, { value: 1, ttlSeconds: 0 }, 'ttlSeconds'],
      ['PUT', `/v1/sessions/${sid}/context/k`, { value: 1, ttlSeconds: 1.5 }, 'ttlSeconds'],
      ['PUT', `/v1/sessions/${sid}/context/k`, { value: 1, type: 'has space' }, 'type'],
      ['PUT', `/v1/sessions/${sid}/context/k`, { value: 1, colour: 'red' }, ''],
      ['PUT', `/v1/sessions/${sid}/context/bad%20key`, { value: 1 }, ''],
      ['GET', `/v1/sessions/${sid}/context/.hidden`, undefined, ''],
      ['DELETE', `/v1/sessions/${sid}/context/bad%20key`, undefined, ''],
      ['GET', `/v1/sessions/${sid}/context?minRelevance=2`, undefined, 'minRelevance'],
      ['GET', `/v1/sessions/${sid}/context?limit=0`, undefined, 'limit'],
      ['GET', `/v1/sessions/${sid}/context?sort=key`, undefined, ''],
      ['GET', '/v1/sessions/not-a-uuid/context', undefined, ''],
    ];
    for (const [method, path, body, issue] of cases) {
      const r = await gw.request(method, path, { headers: A, ...(body !== undefined ? { body } : {}) });
      expect(r.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(400);
      expect(r.body).toMatchObject({ error: { code: 'invalid_request' } });
      expect(issuesOf(r), `${method} ${path}`).toContain(issue);
    }
    // A key longer than a path parameter may be is refused by the router itself.
    expect((await put(sid, 'k'.repeat(100), { value: 1 })).status).toBe(201);
    expect((await put(sid, 'k'.repeat(101), { value: 1 })).status).toBe(414);
  });

  it('answers 404 for a session that does not exist', async () => {
    const id = randomUUID();
    for (const [method, path] of [['GET', ''], ['POST', '/pause'], ['POST', '/resume'], ['POST', '/close'], ['GET', '/context'], ['GET', '/context/k'], ['DELETE', '/context/k']] as const) {
      const r = await gw.request(method, `/v1/sessions/${id}${path}`, { headers: A });
      expect(r.status, `${method} ${path}`).toBe(404);
    }
    expect((await put(id, 'k', { value: 1 })).status).toBe(404);
  });
});

describe('context entries', () => {
  it('puts (201 new, 200 replaced: the whole entry, keeping its access count), reads with an access count, deletes', async () => {
    const sid = await create();
    const first = await put(sid, 'customer.tier', { value: { tier: 'gold', since: 2019 }, type: 'fact', relevance: 0.9 });
    expect(first.status).toBe(201);
    expect(first.headers.get('location')).toBe(`/v1/sessions/${sid}/context/customer.tier`);
    expect(first.body).toEqual({ key: 'customer.tier', value: { tier: 'gold', since: 2019 }, type: 'fact', relevance: 0.9, accessCount: 0, createdAt: aString, updatedAt: aString });

    const read1 = await gw.request('GET', `/v1/sessions/${sid}/context/customer.tier`, { headers: A });
    expect(read1.status).toBe(200);
    expect(read1.body).toMatchObject({ value: { tier: 'gold', since: 2019 }, accessCount: 1, lastAccessedAt: aString });
    expect((await gw.request('GET', `/v1/sessions/${sid}/context/customer.tier`, { headers: A })).body).toMatchObject({ accessCount: 2 });

    const replaced = await put(sid, 'customer.tier', { value: 'platinum', ttlSeconds: 3600 });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ value: 'platinum', type: 'general', relevance: 0.5, accessCount: 2, createdAt: first.body['createdAt'], expiresAt: aString });
    const ttl = Date.parse((replaced.body as Entry).expiresAt!) - Date.now();
    expect(ttl).toBeGreaterThan(3500_000);
    expect(ttl).toBeLessThanOrEqual(3600_000);

    for (const value of [null, 0, 'text', [1, 'two'], { deep: { er: [true] } }]) {
      expect((await put(sid, 'any', { value })).body).toMatchObject({ value });
    }

    expect((await gw.request('DELETE', `/v1/sessions/${sid}/context/customer.tier`, { headers: A })).status).toBe(204);
    expect((await gw.request('GET', `/v1/sessions/${sid}/context/customer.tier`, { headers: A })).status).toBe(404);
    const again = await gw.request('DELETE', `/v1/sessions/${sid}/context/customer.tier`, { headers: A });
    expect(again.status).toBe(404);
    expect(again.body).toMatchObject({ error: { code: 'not_found' } });
  });

  it('counts every one of many concurrent reads', async () => {
    const sid = await create();
    await put(sid, 'hot', { value: 1 });
    const reads = await Promise.all(Array.from({ length: 25 }, () => gw.request('GET', `/v1/sessions/${sid}/context/hot`, { headers: A })));
    expect(reads.map((r) => r.body['accessCount']).sort((a, b) => (a as number) - (b as number))).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect((await gw.db.prisma.contextEntry.findFirstOrThrow({ where: { sessionId: sid, key: 'hot' } })).accessCount).toBe(25);
  });

  it('lists live entries by relevance, then most recently written or read; minRelevance, type and limit; listing is not a read', async () => {
    const sid = await create();
    await put(sid, 'low', { value: 1, relevance: 0.1 });
    await put(sid, 'high-old', { value: 2, relevance: 0.8, type: 'fact' });
    await put(sid, 'high-new', { value: 3, relevance: 0.8 });
    await put(sid, 'top', { value: 4, relevance: 1 });
    await put(sid, 'stale', { value: 5, relevance: 1 });
    await expire(sid, 'stale');

    const keys = async (q = '') => {
      const r = await gw.request('GET', `/v1/sessions/${sid}/context${q}`, { headers: A });
      expect(r.status).toBe(200);
      expect(r.body['sessionId']).toBe(sid);
      return (r.body['entries'] as Entry[]).map((e) => e.key);
    };
    expect(await keys()).toEqual(['top', 'high-new', 'high-old', 'low']);
    // Reading high-old makes it the more recent of the two 0.8s.
    await new Promise((res) => setTimeout(res, 5));
    await gw.request('GET', `/v1/sessions/${sid}/context/high-old`, { headers: A });
    expect(await keys()).toEqual(['top', 'high-old', 'high-new', 'low']);
    expect(await keys('?minRelevance=0.5')).toEqual(['top', 'high-old', 'high-new']);
    expect(await keys('?minRelevance=0.5&limit=2')).toEqual(['top', 'high-old']);
    expect(await keys('?type=fact')).toEqual(['high-old']);
    const entries = (await gw.request('GET', `/v1/sessions/${sid}/context`, { headers: A })).body['entries'] as Entry[];
    expect(entries.find((e) => e.key === 'top')!.accessCount).toBe(0);
    expect(entries.find((e) => e.key === 'high-old')!.accessCount).toBe(1);
    expect(await keys('?minRelevance=1.0')).toEqual(['top']);

    const empty = await create();
    expect((await gw.request('GET', `/v1/sessions/${empty}/context`, { headers: A })).body).toEqual({ sessionId: empty, entries: [] });
  });

  it('treats an expired entry as absent: 404 on read and delete, left out of lists and counts, renewed as new by a put', async () => {
    const sid = await create();
    expect((await put(sid, 'note', { value: 'v1', ttlSeconds: 60 })).status).toBe(201);
    await gw.request('GET', `/v1/sessions/${sid}/context/note`, { headers: A });
    await expire(sid, 'note');
    expect((await gw.request('GET', `/v1/sessions/${sid}/context/note`, { headers: A })).status).toBe(404);
    expect((await gw.request('GET', `/v1/sessions/${sid}/context`, { headers: A })).body['entries']).toEqual([]);
    expect((await gw.request('GET', `/v1/sessions/${sid}`, { headers: A })).body['counts']).toEqual({ tasks: 0, entries: 0 });

    const renewed = await put(sid, 'note', { value: 'v2' });
    expect(renewed.status).toBe(201);
    expect(renewed.body).toMatchObject({ value: 'v2', accessCount: 0 });
    expect(renewed.body).not.toHaveProperty('expiresAt');
    expect(renewed.body).not.toHaveProperty('lastAccessedAt');

    await put(sid, 'other', { value: 1 });
    await expire(sid, 'other');
    expect((await gw.request('DELETE', `/v1/sessions/${sid}/context/other`, { headers: A })).status).toBe(404);
    expect(await gw.db.prisma.contextEntry.count({ where: { sessionId: sid, key: 'other' } })).toBe(0);
  });

  it('purges expired rows: a session\'s on each write to it, every session\'s on the purge timer', async () => {
    const s1 = await create();
    const s2 = await create();
    for (const sid of [s1, s2]) {
      await put(sid, 'old', { value: 1 });
      await expire(sid, 'old');
      await put(sid, 'live', { value: 1, ttlSeconds: 3600 });
    }
    // The second put into each session purged its expired 'old'.
    expect(await gw.db.prisma.contextEntry.count({ where: { sessionId: { in: [s1, s2] }, key: 'old' } })).toBe(0);

    await gw.db.prisma.contextEntry.updateMany({ where: { sessionId: { in: [s1, s2] } }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const purged = await gw.app.get(ContextPurger).tick();
    expect(purged).toBeGreaterThanOrEqual(2);
    expect(await gw.db.prisma.contextEntry.count({ where: { sessionId: { in: [s1, s2] } } })).toBe(0);
  });

  it('refuses a value over 64 KiB with 413; one at the limit is taken', async () => {
    const sid = await create();
    const big = await put(sid, 'big', { value: 'x'.repeat(64 * 1024) });
    expect(big.status).toBe(413);
    expect(big.body).toMatchObject({ error: { code: 'value_too_large' } });
    expect((await put(sid, 'fits', { value: 'x'.repeat(64 * 1024 - 2) })).status).toBe(201);
  });

  it('keeps a closed session\'s context readable but refuses writes and deletes (409)', async () => {
    const sid = await create();
    await put(sid, 'k', { value: 1 });
    expect((await gw.request('POST', `/v1/sessions/${sid}/pause`, { headers: A })).status).toBe(200);
    expect((await put(sid, 'while-paused', { value: 1 })).status).toBe(201);
    expect((await gw.request('POST', `/v1/sessions/${sid}/close`, { headers: A })).status).toBe(200);
    for (const r of [await put(sid, 'k', { value: 2 }), await put(sid, 'new', { value: 2 }), await gw.request('DELETE', `/v1/sessions/${sid}/context/k`, { headers: A })]) {
      expect(r.status).toBe(409);
      expect(r.body).toMatchObject({ error: { code: 'session_closed' } });
    }
    expect((await gw.request('GET', `/v1/sessions/${sid}/context/k`, { headers: A })).body).toMatchObject({ value: 1 });
    expect(((await gw.request('GET', `/v1/sessions/${sid}/context`, { headers: A })).body['entries'] as Entry[]).map((e) => e.key).sort()).toEqual(['k', 'while-paused']);
  });
});

describe('tenant isolation', () => {
  it('a key of another tenant finds none of this tenant\'s sessions or entries, and changes nothing', async () => {
    const sid = await create('acme only');
    await put(sid, 'secret', { value: 's3cr3t' });
    const bSession = await create('globex', B);

    const listed = await gw.request('GET', '/v1/sessions?limit=200', { headers: B });
    expect((listed.body['sessions'] as { id: string }[]).map((s) => s.id)).toEqual([bSession]);

    const attempts: [string, string, Body?][] = [
      ['GET', `/v1/sessions/${sid}`],
      ['POST', `/v1/sessions/${sid}/pause`],
      ['POST', `/v1/sessions/${sid}/resume`],
      ['POST', `/v1/sessions/${sid}/close`],
      ['GET', `/v1/sessions/${sid}/context`],
      ['GET', `/v1/sessions/${sid}/context/secret`],
      ['PUT', `/v1/sessions/${sid}/context/secret`, { value: 'overwritten' }],
      ['PUT', `/v1/sessions/${sid}/context/planted`, { value: 'x' }],
      ['DELETE', `/v1/sessions/${sid}/context/secret`],
    ];
    for (const [method, path, body] of attempts) {
      const r = await gw.request(method, path, { headers: B, ...(body ? { body } : {}) });
      expect(r.status, `${method} ${path}`).toBe(404);
      expect(r.body).toMatchObject({ error: { code: 'not_found' } });
      expect(JSON.stringify(r.body)).not.toContain('s3cr3t');
    }
    const row = await gw.db.prisma.contextEntry.findFirstOrThrow({ where: { sessionId: sid, key: 'secret' } });
    expect(row).toMatchObject({ value: 's3cr3t', accessCount: 0 });
    expect(await gw.db.prisma.contextEntry.count({ where: { sessionId: sid } })).toBe(1);
    expect((await gw.db.prisma.session.findUniqueOrThrow({ where: { id: sid } })).status).toBe('active');
    // And B's own session is B's: A cannot see it either.
    expect((await gw.request('GET', `/v1/sessions/${bSession}`, { headers: A })).status).toBe(404);
  });
});
