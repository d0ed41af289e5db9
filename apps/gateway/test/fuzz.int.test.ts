// Fuzzing the gateway with fast-check: thousands of malformed requests across every route Nest serves (listRoutes) —
// random and malformed JSON, wrong types, deep nesting, bodies near and above the size limit, random unicode, bad path
// parameters, random query strings, wrong content types, missing or garbage credentials, duplicated headers — most
// of them with a valid admin key, so they reach the handlers. Whatever comes in: no 5xx, every 4xx has the one error
// shape, nothing hangs, and the gateway still answers /healthz afterwards.
import fc from 'fast-check';
import { Agent, request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { listRoutes, type RouteInfo } from '../src/http/routes.js';
import { startTestGateway, type TestGateway } from './gateway-app.js';

/** Run counts; each run sends a batch of requests side by side. FUZZ_SCALE=10 for a longer hunt. */
const SCALE = Number(process.env['FUZZ_SCALE'] ?? 1);
const BATCH = 6;
const REQUEST_TIMEOUT_MS = 15_000;

const ErrorShape = z.strictObject({
  error: z.strictObject({
    code: z.string().min(1),
    message: z.string(),
    issues: z.array(z.looseObject({ path: z.array(z.union([z.string(), z.number()])), message: z.string() })).optional(),
  }),
});

let gw: TestGateway;
let routes: RouteInfo[];
let admin: string;
let readOnly: string;
let bodyLimit: number;
const agent = new Agent({ keepAlive: true, maxSockets: BATCH * 2 });

beforeAll(async () => {
  gw = await startTestGateway('gateway_fuzz');
  routes = listRoutes(gw.app);
  admin = (await gw.authFor('default')).authorization!;
  readOnly = (await gw.authFor('default', ['read'])).authorization!;
  bodyLimit = gw.runtime.config.BODY_LIMIT_BYTES;
  // A skill and a session that exist, so that well-formed submissions get as far as the database.
  await gw.db.prisma.skill.create({ data: { name: 'echo', category: 'core', description: 'echo', kind: 'code', sideEffects: 'none', timeoutMs: 1000, inputSchema: {}, outputSchema: {} } });
});
afterAll(async () => {
  agent.destroy();
  await gw?.stop();
});

interface FuzzRequest {
  method: string;
  path: string;
  /** Raw header pairs, duplicates allowed. */
  headers: [string, string][];
  body?: string;
}

interface Answer {
  status: number;
  contentType: string;
  text: string;
}

/**
 * Sends exactly what it is given (node:http with raw header pairs); an event stream is read up to its headers only.
 * A request that fails on a kept-alive socket the server was closing at that moment (it closes a connection whose
 * request body it did not read, e.g. after a 413 or a 401) is sent again once on a fresh connection, as Node's
 * documentation advises (`request.reusedSocket`); a request that fails on a fresh connection is a real failure.
 */
async function send(req: FuzzRequest): Promise<Answer> {
  try {
    return await sendOnce(req, agent);
  } catch (err) {
    if (!(err instanceof ReusedSocketError)) throw err;
    return sendOnce(req, false);
  }
}

class ReusedSocketError extends Error {}

function sendOnce(req: FuzzRequest, via: Agent | false): Promise<Answer> {
  const url = new URL(gw.url);
  const headers: [string, string][] = [['host', url.host], ...req.headers]; // raw header pairs: node adds no Host of its own
  // Always a length: without one node would send a bodiless POST chunked, which Fastify takes as a body of no type.
  headers.push(['content-length', String(req.body === undefined ? 0 : Buffer.byteLength(req.body))]);
  return new Promise((resolve, reject) => {
    const r = httpRequest(
      { host: url.hostname, port: url.port, method: req.method, path: req.path, headers: headers.flat(), agent: via, timeout: REQUEST_TIMEOUT_MS },
      (res) => {
        const contentType = String(res.headers['content-type'] ?? '');
        if (contentType.startsWith('text/event-stream')) {
          res.destroy();
          resolve({ status: res.statusCode!, contentType, text: '' });
          return;
        }
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, contentType, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    r.on('timeout', () => r.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    r.on('error', (err: NodeJS.ErrnoException) => {
      const raced = r.reusedSocket && (err.code === 'ECONNRESET' || err.message === 'socket hang up');
      reject(raced ? new ReusedSocketError(err.message, { cause: err }) : err);
    });
    r.end(req.body);
  });
}

const show = (req: FuzzRequest) =>
  JSON.stringify({ method: req.method, path: req.path.slice(0, 300), headers: req.headers.map(([k, v]) => [k, v.slice(0, 80)]), body: req.body?.slice(0, 300), bodyBytes: req.body === undefined ? 0 : Buffer.byteLength(req.body) });


/** The invariants: an answer, no 5xx, and every 4xx in the one error shape. */
async function check(req: FuzzRequest): Promise<Answer> {
  let a: Answer;
  try {
    a = await send(req);
  } catch (err) {
    throw new Error(`no answer (${(err as Error).message}) to ${show(req)}`, { cause: err });
  }
  return invariants(req, a);
}

function invariants(req: FuzzRequest, a: Answer): Answer {
  if (a.status >= 500) throw new Error(`${a.status} ${a.text.slice(0, 300)} for ${show(req)}`);
  if (a.status >= 400) {
    if (!a.contentType.startsWith('application/json')) throw new Error(`${a.status} with content type "${a.contentType}" for ${show(req)}`);
    let body: unknown;
    try {
      body = JSON.parse(a.text);
    } catch {
      throw new Error(`${a.status} with a body that is not JSON (${a.text.slice(0, 200)}) for ${show(req)}`);
    }
    const shape = ErrorShape.safeParse(body);
    if (!shape.success) throw new Error(`${a.status} not in the error shape: ${a.text.slice(0, 300)} for ${show(req)}`);
  }
  return a;
}

// ─── Arbitraries ──────────────────────────────────────────────────────────────────────────────────────────────

/** Path segments that upset parsers, sent as they are (all already valid in a URL). */
const RAW_SEGMENTS = ['..', '.', '%00', '%', '%zz', '%E0%A4%A', '%ff%fe', '%C0%AF', '%2e%2e', '%2F', '0', '-1', '1e3', '99999999999999999999', 'null', 'undefined', '__proto__', 'constructor', 'prototype', '%20', '+', '~', 'NaN', 'Infinity', "'%20OR%201=1--"];

const unicode = fc.string({ unit: 'grapheme', maxLength: 60 });
const binary = fc.string({ unit: 'binary', maxLength: 200 });
const anyText = fc.oneof(unicode, binary, fc.string({ maxLength: 30 }), fc.constantFrom('', ' ', '\u0000', 'a\u0000b', '\ud800', '\udfff', '\u202e', '\ufeff', '💥'.repeat(50), 'x'.repeat(10_000)));

const segment = fc.oneof(
  { weight: 3, arbitrary: fc.uuid() },
  { weight: 1, arbitrary: fc.constantFrom('acme.flow', 'echo', '1', 'a', 'key-1') },
  { weight: 3, arbitrary: anyText.map((s) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, 'x')).slice(0, 4000)) },
  { weight: 2, arbitrary: fc.constantFrom(...RAW_SEGMENTS) },
  { weight: 1, arbitrary: fc.constantFrom('a'.repeat(300), '9'.repeat(300), 'a.'.repeat(200)) },
);

const QUERY_KEYS = ['status', 'limit', 'cursor', 'q', 'category', 'kind', 'type', 'skill', 'workflow', 'sessionId', 'createdAfter', 'createdBefore', 'after', 'minRelevance', 'types', 'taskId', 'since', 'until', 'order', '__proto__', 'constructor', 'limit[]', 'a[b]', ''];
const queryValue = fc.oneof(
  fc.constantFrom('', '0', '-1', '1', '50', '201', '1e999', 'NaN', 'true', 'null', 'running', 'pending,running', 'sent', 'code', 'workflow', '2026-01-01T00:00:00Z', 'not-a-date', 'ZZZ', 'eyJ4IjoxfQ', '[]', '{}'),
  anyText.map((s) => s.replace(/[\ud800-\udfff]/g, '')),
  fc.integer().map(String),
  fc.double().map(String),
);
const queryString = fc.oneof(
  { weight: 3, arbitrary: fc.constant('') },
  {
    weight: 5,
    arbitrary: fc
      .array(fc.tuple(fc.oneof(fc.constantFrom(...QUERY_KEYS), unicode.map((s) => s.replace(/[\ud800-\udfff]/g, ''))), queryValue), { maxLength: 6 })
      .map((pairs) => (pairs.length === 0 ? '' : `?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`)),
  },
  { weight: 1, arbitrary: fc.constantFrom('?', '?&&&', '?=', '?a=%zz', '?limit=1&limit=2', '?status[]=x', '?%00=%00', `?q=${'x'.repeat(8000)}`, '?__proto__[x]=1', '?a=1#frag') },
);

/** Field names the routes know, so random bodies often have the right keys with the wrong values. */
const FIELDS = ['skill', 'workflow', 'version', 'input', 'sessionId', 'name', 'scopes', 'choice', 'answeredBy', 'answers', 'approveAll', 'decisionId', 'by', 'reason', 'output', 'key', 'data', 'mode', 'alpha', 'delta', 'budget', 'auditRate', 'batchSize', 'batchTimeoutMs', 'rules', 'steps', 'id', 'title', 'value', 'type', 'relevance', 'ttlSeconds', 'url', 'events', 'secret', 'description', '__proto__', 'constructor'];
const GOOD: Record<string, unknown> = { skill: 'echo', workflow: 'demo.shout', name: 'ci', scopes: ['read'], title: 'a session', value: { a: 1 }, choice: 'ship', input: {}, url: 'http://127.0.0.1:9/hook', events: ['escalation.batch.ready'] };

const leaf = fc.oneof(anyText, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constantFrom(1e308, -1e308, 5e-324, 2 ** 53 + 1, -0, 0));
const wrongValue = fc.oneof(leaf, fc.array(leaf, { maxLength: 5 }), fc.dictionary(fc.string({ maxLength: 8 }), leaf, { maxKeys: 4 }), fc.jsonValue({ maxDepth: 3 }));
const shapedObject = fc.dictionary(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...FIELDS) }, { weight: 1, arbitrary: fc.string({ maxLength: 10 }) }), fc.oneof(wrongValue, fc.constant('GOOD')), { maxKeys: 6 }).map((o) => {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) out[k] = v === 'GOOD' ? (GOOD[k] ?? 'x') : v;
  return out;
});

/** Nesting `depth` levels deep, alone or under a field a route stores. */
const deep = fc.tuple(fc.constantFrom(16, 99, 100, 101, 1000, 10_000, 100_000), fc.constantFrom('array', 'object', 'input', 'value', 'output', 'data', 'definition')).map(([depth, where]) => {
  const nest = (inner: string) => (where === 'array' ? `${'['.repeat(depth)}${inner}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}${inner}${'}'.repeat(depth)}`);
  switch (where) {
    case 'array':
    case 'object':
      return nest('1');
    case 'input':
      return `{"skill":"echo","input":{"x":${nest('1')}}}`;
    case 'value':
      return `{"value":${nest('1')}}`;
    case 'output':
      return `{"output":${nest('1')}}`;
    case 'definition':
      return `{"name":"acme.deep","version":1,"inputs":{"type":"object","properties":{"x":${nest('{}')}}},"steps":[{"id":"a","skill":"echo","with":${nest('1')}}]}`;
    default:
      return `{"name":"e","data":${nest('1')}}`;
  }
});

const MALFORMED = [
  '', ' ', 'null', 'true', '"text"', '1e999', '-', '{', '}', '[', '{"a":', '{"a":1,}', "{'a':1}", '{"a":1}{"b":2}', '{"a" 1}', 'NaN', '[1,,2]', '\ufeff{}', '{"a":"\\ud800"}',
  '{"a":"\\u0000"}', '{"skill":"echo","input":{"s":"\\u0000"}}', '{"skill":"echo","input":{"\\u0000":1}}', '{"__proto__":{"polluted":true}}', '{"constructor":{"prototype":{"polluted":true}}}',
  '{"skill":"echo","input":{"__proto__":{"x":1}}}', '{"a":1e400}', '{"version":1.5,"workflow":"a"}', '{"version":-0,"workflow":"a"}', 'a=1&b=2', '<xml/>', '--boundary\r\n\r\n--boundary--', 'name: x\nsteps: [',
];
const malformed = fc.oneof(
  fc.constantFrom(...MALFORMED),
  binary,
  fc.json({ maxDepth: 4 }).chain((j) => fc.nat({ max: Math.max(0, j.length - 1) }).map((n) => j.slice(0, n))), // truncated JSON
);

const jsonBody = fc.oneof(
  { weight: 4, arbitrary: shapedObject.map((o) => JSON.stringify(o)) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
  { weight: 2, arbitrary: malformed },
  { weight: 1, arbitrary: deep },
);

const CONTENT_TYPES = ['application/json', 'application/json; charset=utf-8', 'application/json; charset=utf-16', 'text/plain', 'application/yaml', 'text/yaml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream', 'application/xml', 'x/y;;;', 'application/json, text/plain', '*/*', 'application/merge-patch+json'];
const contentType = fc.oneof({ weight: 6, arbitrary: fc.constant('application/json') }, { weight: 3, arbitrary: fc.constantFrom(...CONTENT_TYPES) }, { weight: 1, arbitrary: fc.constant(undefined) });

/** Header values a client can send: no control characters (Latin-1 above 0x7f is allowed on the wire). */
const headerValue = fc.oneof(fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 120 }), fc.string({ unit: fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 20 }));

type AuthChoice = 'admin' | 'read' | 'none' | 'garbage' | 'twice';
const auth = fc.oneof(
  { weight: 16, arbitrary: fc.constant<AuthChoice>('admin') },
  { weight: 1, arbitrary: fc.constant<AuthChoice>('read') },
  { weight: 1, arbitrary: fc.constant<AuthChoice>('none') },
  { weight: 2, arbitrary: fc.constant<AuthChoice>('garbage') },
  { weight: 1, arbitrary: fc.constant<AuthChoice>('twice') },
);
const garbageAuth = fc.oneof(
  headerValue,
  headerValue.map((v) => `Bearer ${v}`),
  headerValue.map((v) => `Bearer stw_${v}`),
  fc.constantFrom('Bearer', 'Bearer ', 'bearer', 'Basic dXNlcjpwYXNz', 'Bearer stw_', `Bearer stw_aaaaaaaaaaaa_${'x'.repeat(43)}`, `Bearer ${'a'.repeat(7000)}`, 'Bearer a b', 'Digest x', 'Bearer \t stw_x'),
);

interface Shape {
  route: RouteInfo;
  methodOverride: string | undefined;
  segments: string[];
  query: string;
  body: string | undefined;
  contentType: string | undefined;
  auth: AuthChoice;
  garbage: string;
  extra: [string, string][];
}

const extraHeaders = fc.array(
  fc.oneof(
    fc.tuple(fc.constant('idempotency-key'), headerValue),
    fc.tuple(fc.constant('accept'), fc.constantFrom('text/event-stream', 'application/json', '*/*', 'text/html', 'x/y', '')),
    fc.tuple(fc.constant('last-event-id'), fc.oneof(headerValue, fc.constantFrom('0', '-1', '1e999', '99999999999999999999', '12'))),
    fc.tuple(fc.constant('if-none-match'), headerValue),
    fc.tuple(fc.constant('content-type'), fc.constantFrom(...CONTENT_TYPES)), // a second content type
    fc.tuple(fc.constant('x-forwarded-for'), headerValue),
    fc.tuple(fc.constant('origin'), fc.constantFrom('http://evil.example', 'null')),
  ),
  { maxLength: 3 },
);

function shapeArb(withBody: 'any' | 'body'): fc.Arbitrary<Shape> {
  return fc.constantFrom(...(withBody === 'body' ? routes.filter((r) => r.method !== 'GET') : routes)).chain((route) =>
    fc.record({
      route: fc.constant(route),
      methodOverride: fc.oneof({ weight: 19, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS') }),
      segments: fc.array(segment, { minLength: 6, maxLength: 6 }),
      query: queryString,
      body: withBody === 'body' || route.method !== 'GET' ? fc.option(jsonBody, { freq: 8, nil: undefined }) : fc.option(jsonBody, { freq: 1, nil: undefined }),
      contentType,
      auth,
      garbage: garbageAuth,
      extra: extraHeaders,
    }),
  );
}

function toRequest(s: Shape): FuzzRequest {
  let i = 0;
  const path = s.route.path.replace(/:\w+/g, () => s.segments[i++] ?? 'x') + s.query;
  const headers: [string, string][] = [];
  if (s.auth === 'admin') headers.push(['authorization', admin]);
  if (s.auth === 'read') headers.push(['authorization', readOnly]);
  if (s.auth === 'garbage') headers.push(['authorization', s.garbage]);
  if (s.auth === 'twice') headers.push(['authorization', admin], ['authorization', s.garbage]);
  if (s.body !== undefined && s.contentType !== undefined) headers.push(['content-type', s.contentType]);
  headers.push(...s.extra);
  return { method: s.methodOverride ?? s.route.method, path, headers, ...(s.body !== undefined ? { body: s.body } : {}) };
}

const runs = (n: number) => Math.max(1, Math.round(n * SCALE));

describe('fuzzing every route', () => {
  it('random malformed requests across all routes: no 5xx, every 4xx in the error shape', async () => {
    expect(routes.length).toBeGreaterThan(20);
    let sent = 0;
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(fc.array(shapeArb('any'), { minLength: BATCH, maxLength: BATCH }), async (batch) => {
        const answers = await Promise.all(batch.map((s) => check(toRequest(s))));
        sent += answers.length;
        for (const a of answers) statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
      }),
      { numRuns: runs(200) },
    );
    expect(sent).toBeGreaterThanOrEqual(runs(200) * BATCH);
    // Most requests were authenticated and got past the guard to the handlers' validation and beyond.
    const reachedHandlers = [...statuses].filter(([s]) => s !== 401 && s !== 403).reduce((n, [, c]) => n + c, 0);
    expect(reachedHandlers / sent).toBeGreaterThan(0.5);
  });

  it('malformed bodies on every route that takes one', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(shapeArb('body'), { minLength: BATCH, maxLength: BATCH }), async (batch) => {
        await Promise.all(batch.map((s) => check(toRequest({ ...s, auth: 'admin', methodOverride: undefined, body: s.body ?? '{}' }))));
      }),
      { numRuns: runs(120) },
    );
  });

  it('bodies near and above the size limit, and deep nesting, on every route that takes a body', async () => {
    const bodyRoutes = routes.filter((r) => r.method !== 'GET');
    const sizes = [bodyLimit - 64, bodyLimit - 1, bodyLimit, bodyLimit + 1, bodyLimit + 4096, bodyLimit * 2];
    for (const [i, route] of bodyRoutes.entries()) {
      const path = route.path.replace(/:\w+/g, () => '3f2b8c1e-5d0a-4c6e-9a57-0c1f4e2d7b90');
      const size = sizes[i % sizes.length]!;
      // A JSON document of exactly `size` bytes: a string value padding it out, or random unicode.
      const frame = '{"skill":"echo","input":{"s":""}}';
      const pad = 'é'.repeat(Math.floor((size - frame.length) / 2)) + 'x'.repeat((size - frame.length) % 2);
      const body = `{"skill":"echo","input":{"s":"${pad}"}}`;
      expect(Buffer.byteLength(body)).toBe(size);
      const a = await check({ method: route.method, path, headers: [['authorization', admin], ['content-type', 'application/json']], body });
      if (size > bodyLimit) expect(a.status, `${route.method} ${route.path} with ${size} bytes`).toBe(413);
    }
    for (const size of sizes) {
      const body = `{"skill":"echo","input":{"s":"${'x'.repeat(size - 32)}"}}`;
      const a = await check({ method: 'POST', path: '/v1/tasks', headers: [['authorization', admin], ['content-type', 'application/json']], body });
      if (Buffer.byteLength(body) > bodyLimit) expect(a.status).toBe(413);
    }
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...bodyRoutes), deep, async (route, body) => {
        await check({ method: route.method, path: route.path.replace(/:\w+/g, () => '3f2b8c1e-5d0a-4c6e-9a57-0c1f4e2d7b90'), headers: [['authorization', admin], ['content-type', 'application/json']], body });
      }),
      { numRuns: runs(40) },
    );
  });

  it('garbage, missing and duplicated credentials: 401 or 403 in the error shape', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes.filter((r) => !r.public)), garbageAuth, fc.boolean(), async (route, garbage, twice) => {
        const path = route.path.replace(/:\w+/g, () => '3f2b8c1e-5d0a-4c6e-9a57-0c1f4e2d7b90');
        const headers: [string, string][] = twice ? [['authorization', garbage], ['authorization', admin]] : [['authorization', garbage]];
        const a = await check({ method: route.method, path, headers });
        expect([401, 403], `${route.method} ${route.path} with ${garbage.slice(0, 60)}`).toContain(a.status);
      }),
      { numRuns: runs(150) },
    );
  });

  it('text PostgreSQL cannot store, and JSON nested too deeply, are a 400 naming where, not a 500', async () => {
    const deepData = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
    const cases: [string, string, string | undefined, PropertyKey[]][] = [
      ['POST', '/v1/tasks', '{"skill":"echo","input":{"s":"a\\u0000b"}}', ['input', 's']],
      ['POST', '/v1/tasks', '{"skill":"echo","input":{"k\\ud800":1}}', ['input', 'k\ud800']],
      ['POST', '/v1/tasks', '{"skill":"echo","sessionId":"a\\u0000"}', ['sessionId']],
      ['GET', '/v1/decisions/a%00b', undefined, []],
      ['GET', '/v1/skills?q=a%00b', undefined, ['q']],
      ['POST', '/v1/keys', '{"name":"a\\u0000","scopes":["read"]}', ['name']],
      ['POST', '/v1/events', `{"name":"e","data":${deepData}}`, ['data', ...Array<string>(9).fill('a')]],
      ['POST', '/v1/tasks', `{"skill":"echo","input":{"x":${deepData}}}`, ['input', 'x', ...Array<string>(8).fill('a')]],
    ];
    for (const [method, path, body, where] of cases) {
      const a = await check({ method, path, headers: [['authorization', admin], ['content-type', 'application/json']], ...(body !== undefined ? { body } : {}) });
      expect(a.status, `${method} ${path}`).toBe(400);
      const err = (JSON.parse(a.text) as { error: { code: string; issues: { path: PropertyKey[]; message: string }[] } }).error;
      expect(err.code).toBe('invalid_request');
      expect(err.issues[0]!.path, `${method} ${path}`).toEqual(where);
    }
  });

  it('still answers /healthz', async () => {
    const a = await check({ method: 'GET', path: '/healthz', headers: [] });
    expect(a.status).toBe(200);
    expect(JSON.parse(a.text)).toMatchObject({ status: 'ok' });
  });
});

// Bugs the fuzz found, fixed: each stays a named test.
describe('bugs the fuzz found', () => {
  const register = async (body: string) => {
    const req: FuzzRequest = { method: 'POST', path: '/v1/workflows', headers: [['authorization', admin], ['content-type', 'application/json']], body };
    invariants(req, await send(req));
  };
  it('a workflow definition with a step `with` nested 3000 levels deep is refused with a 4xx', async () => {
    await register(`{"name":"acme.deep","version":1,"steps":[{"id":"a","skill":"echo","with":${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}}]}`);
  });
  it('a workflow definition with U+0000 in its description is refused with a 4xx', async () => {
    await register('{"name":"acme.nul","version":1,"description":"a\\u0000b","steps":[{"id":"a","skill":"echo"}]}');
  });
  it('a path parameter over 100 characters gets the error shape', async () => {
    invariants({ method: 'GET', path: `/v1/tasks/${'a'.repeat(101)}`, headers: [['authorization', admin]] }, await send({ method: 'GET', path: `/v1/tasks/${'a'.repeat(101)}`, headers: [['authorization', admin]] }));
  });
  it('headers over the size limit get a 431 in the error shape, and the connection closes', async () => {
    const req: FuzzRequest = { method: 'POST', path: `/v1/workflows?status=${'x'.repeat(20_000)}`, headers: [['authorization', admin]] };
    const a = invariants(req, await send(req));
    expect(a.status).toBe(431);
    expect((JSON.parse(a.text) as { error: { code: string } }).error.code).toBe('headers_too_large');
  });
  it('a request that is not HTTP gets a 400 in the error shape', async () => {
    const { createConnection } = await import('node:net');
    const url = new URL(gw.url);
    const raw = await new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const socket = createConnection({ host: url.hostname, port: Number(url.port) }, () => socket.write('GARBAGE\x01 / HTTP/9\r\n\r\n'));
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
      socket.on('error', reject);
    });
    const [head, body] = raw.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 400 /);
    expect(head).toMatch(/connection: close/i);
    expect(ErrorShape.parse(JSON.parse(body!)).error.code).toBe('bad_request');
  });
  it('a YAML definition nested 1000 levels deep, sent twice, is a 400 and the process lives', async () => {
    // The yaml package catches its own stack overflow and carries on at the exhausted stack; the second time through,
    // V8 compiled a regular expression there to native code and died in its regexp compiler ("RegExpCompiler
    // Allocation failed - process out of memory"), taking the whole worker with it. Refused before parsing now.
    for (const body of [`${'['.repeat(1000)}1${']'.repeat(1000)}`, `${'{"a":'.repeat(1000)}1${'}'.repeat(1000)}`, `${'- '.repeat(1000)}x`]) {
      for (let i = 0; i < 2; i++) {
        const req: FuzzRequest = { method: 'POST', path: '/v1/workflows', headers: [['authorization', admin], ['content-type', 'application/yaml']], body };
        const a = invariants(req, await send(req));
        expect(a.status).toBe(400);
        expect((JSON.parse(a.text) as { error: { code: string } }).error.code).toBe('invalid_yaml');
      }
    }
    expect((await send({ method: 'GET', path: '/healthz', headers: [] })).status).toBe(200);
  });
  it('a malformed percent-encoding in the path gets the error shape', async () => {
    invariants({ method: 'GET', path: '/v1/decisions/%E0%A4%A', headers: [['authorization', admin]] }, await send({ method: 'GET', path: '/v1/decisions/%E0%A4%A', headers: [['authorization', admin]] }));
  });
});
