// The OpenAPI document against the real gateway: it describes exactly the routes Nest serves (same methods, paths,
// scopes), it is structurally valid OpenAPI 3.1, its request examples validate against its schemas and are accepted by
// the routes, and every answer they get is documented and matches its response schema. Also the /docs page.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { listRoutes } from '../src/http/routes.js';
import { buildOpenApiDocument, openApiPath, SECURITY_SCHEME, type OpenApiDocument } from '../src/openapi/document.js';
import { ROUTES } from '../src/openapi/routes.js';
import { startTestGateway, type TestGateway } from './gateway-app.js';

type Json = Record<string, unknown>;
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

let gw: TestGateway;
let doc: OpenApiDocument;
let admin: string;
beforeAll(async () => {
  gw = await startTestGateway('gateway_openapi');
  admin = (await gw.authFor('default')).authorization!;
  // The example workflow names these skills: the registration checks them against the catalogue.
  await gw.db.prisma.skill.createMany({
    data: ['echo', 'text.uppercase'].map((name) => ({ name, category: 'core', description: name, kind: 'code', sideEffects: 'none', timeoutMs: 1000, inputSchema: {}, outputSchema: {} })),
  });
  const res = await fetch(`${gw.url}/openapi.json`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  doc = (await res.json()) as OpenApiDocument;
});
afterAll(async () => {
  await gw?.stop();
});

/** Every operation of the document with its method and path. */
function operations(d: OpenApiDocument): { method: string; path: string; op: Json }[] {
  return Object.entries(d.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m] !== undefined).map((m) => ({ method: m.toUpperCase(), path, op: item[m] as Json })),
  );
}

/** A zod validator for a schema of the document (its component refs resolved), via zod's JSON Schema import. */
function validatorFor(d: OpenApiDocument, schema: unknown): z.ZodType {
  const toDefs = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(toDefs)
      : v && typeof v === 'object'
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, k === '$ref' && typeof x === 'string' ? x.replace('#/components/schemas/', '#/$defs/') : toDefs(x)]))
        : v;
  return z.fromJSONSchema({ $schema: 'https://json-schema.org/draft/2020-12/schema', ...(toDefs(schema) as Json), $defs: toDefs(d.components.schemas) } as Parameters<typeof z.fromJSONSchema>[0]);
}

/** Resolves a `#/components/...` reference of the document. */
function deref<T = Json>(d: OpenApiDocument, value: unknown): T {
  let v = value as Json;
  for (let i = 0; i < 5 && typeof v['$ref'] === 'string'; i++) {
    v = v['$ref'].slice(2).split('/').reduce<Json>((o, k) => o[k] as Json, d as unknown as Json);
  }
  return v as T;
}

describe('the OpenAPI document', () => {
  it('is served publicly and is the one built from the registry', () => {
    expect(doc).toEqual(JSON.parse(JSON.stringify(buildOpenApiDocument())));
  });

  it('describes every route Nest serves, with the same scope, and nothing else', () => {
    const served = listRoutes(gw.app).map((r) => `${r.method} ${openApiPath(r.path)} ${r.public ? 'public' : r.scope}`).sort();
    const documented = operations(doc).map(({ method, path, op }) => `${method} ${path} ${String(op['x-steward-scope'])}`).sort();
    const missing = served.filter((r) => !documented.includes(r));
    const extra = documented.filter((r) => !served.includes(r));
    expect({ missing, extra }, 'register missing routes in apps/gateway/src/openapi/routes.ts').toEqual({ missing: [], extra: [] });
    for (const { method, path, op } of operations(doc)) {
      const scope = op['x-steward-scope'] as string;
      expect(op['security'], `${method} ${path}`).toEqual(scope === 'public' ? [] : [{ [SECURITY_SCHEME]: [scope] }]);
    }
  });

  it('is structurally valid OpenAPI 3.1', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(typeof doc.info.title).toBe('string');
    expect(typeof doc.info.version).toBe('string');
    expect(doc.security).toEqual([{ [SECURITY_SCHEME]: [] }]);
    expect(doc.components.securitySchemes[SECURITY_SCHEME]).toMatchObject({ type: 'http', scheme: 'bearer' });
    const tags = new Set((doc['tags'] as { name: string }[]).map((t) => t.name));
    const operationIds = new Set<string>();

    for (const [key, group] of Object.entries(doc.components)) {
      for (const name of Object.keys(group)) expect(name, `components.${key}`).toMatch(/^[a-zA-Z0-9._-]+$/);
    }
    for (const [path, item] of Object.entries(doc.paths)) {
      expect(path).toMatch(/^\//);
      const templated = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!).sort();
      for (const key of Object.keys(item)) expect(METHODS as readonly string[], `${path}: ${key}`).toContain(key);
      for (const { method, op } of operations({ ...doc, paths: { [path]: item } })) {
        const where = `${method} ${path}`;
        expect(typeof op['operationId'], where).toBe('string');
        expect(operationIds.has(op['operationId'] as string), `${where}: operationId is unique`).toBe(false);
        operationIds.add(op['operationId'] as string);
        for (const t of op['tags'] as string[]) expect(tags.has(t), `${where}: tag ${t} is declared`).toBe(true);

        const params = ((op['parameters'] as Json[] | undefined) ?? []).map((p) => deref(doc, p));
        const seen = new Set<string>();
        for (const p of params) {
          expect(['query', 'header', 'path', 'cookie'], where).toContain(p['in']);
          expect(typeof p['name'], where).toBe('string');
          expect(p['schema'] !== undefined || p['content'] !== undefined, `${where}: ${String(p['name'])} has a schema`).toBe(true);
          expect(seen.has(`${String(p['in'])}:${String(p['name'])}`), `${where}: parameter ${String(p['name'])} is unique`).toBe(false);
          seen.add(`${String(p['in'])}:${String(p['name'])}`);
          if (p['in'] === 'path') expect(p['required'], `${where}: path parameter ${String(p['name'])} is required`).toBe(true);
        }
        expect(params.filter((p) => p['in'] === 'path').map((p) => p['name']).sort(), `${where}: path parameters match the template`).toEqual(templated);

        if (op['requestBody'] !== undefined) {
          const body = deref(doc, op['requestBody']);
          expect(Object.keys(body['content'] as Json).length, `${where}: request body content`).toBeGreaterThan(0);
        }
        const responses = op['responses'] as Json;
        expect(Object.keys(responses).length, where).toBeGreaterThan(0);
        expect(Object.keys(responses).some((s) => /^2\d\d$/.test(s)), `${where}: documents a success`).toBe(true);
        for (const [status, r] of Object.entries(responses)) {
          expect(status, where).toMatch(/^([1-5](\d\d|XX)|default)$/);
          expect(typeof deref(doc, r)['description'], `${where} ${status}: description`).toBe('string');
          const declared = ROUTES.find((x) => x.method === method && openApiPath(x.path) === path)?.responses[Number(status)];
          if (Number(status) >= 400 && !declared) {
            const schema = (deref<Json>(doc, r)['content'] as Record<string, { schema: unknown }>)['application/json']!.schema;
            expect(schema, `${where} ${status}: the one error shape`).toEqual({ $ref: '#/components/schemas/ErrorBody' });
          }
        }
        if (op['security'] !== undefined) {
          for (const req of op['security'] as Json[]) for (const scheme of Object.keys(req)) expect(doc.components.securitySchemes[scheme], where).toBeDefined();
        }
      }
    }
    // Authenticated routes answer 401, 403 and 429, routes with input 400, routes with path parameters 404.
    for (const { method, path, op } of operations(doc)) {
      const statuses = Object.keys(op['responses'] as Json);
      if (op['x-steward-scope'] !== 'public') expect(statuses, `${method} ${path}`).toEqual(expect.arrayContaining(['401', '403', '429']));
      if (op['x-steward-scope'] !== 'public' && (op['parameters'] !== undefined || op['requestBody'] !== undefined)) expect(statuses, `${method} ${path}`).toContain('400');
      if (path.includes('{')) expect(statuses, `${method} ${path}`).toContain('404');
    }

    // Every reference resolves; schemas carry no $schema/$id of their own (they live in the document).
    const walk = (v: unknown, at: string): void => {
      if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${at}/${i}`));
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v as Json)) {
          if (k === 'example' || k === 'examples' || k === 'default') continue;
          if (k === '$ref') {
            expect(x, at).toMatch(/^#\/components\//);
            expect(deref(doc, { $ref: x }), `${at}: ${String(x)} resolves`).toBeDefined();
          }
          const isPropertyName = at.endsWith('/properties'); // a property called "$schema" is not the keyword
          if (at.includes('/schemas/') && !isPropertyName && (k === '$schema' || k === '$id')) throw new Error(`${at}: ${k} inside a schema`);
          walk(x, `${at}/${k}`);
        }
      }
    };
    walk(doc, '#');
    // Each component schema is a JSON Schema zod can read back.
    for (const name of Object.keys(doc.components.schemas)) expect(() => validatorFor(doc, { $ref: `#/components/schemas/${name}` }), name).not.toThrow();
  });

  it('request examples validate against the document and the route schema, the routes accept them, and their answers are documented', async () => {
    let checked = 0;
    for (const route of ROUTES) {
      const op = doc.paths[openApiPath(route.path)]![route.method.toLowerCase()] as Json;
      const where = `${route.method} ${route.path}`;
      let path = route.path;
      for (const [name, p] of Object.entries(route.params ?? {})) {
        expect(p.schema.safeParse(p.example).success, `${where}: example of :${name}`).toBe(true);
        const documented = ((op['parameters'] as Json[]).find((x) => x['name'] === name && x['in'] === 'path')!)['schema'];
        expect(validatorFor(doc, documented).safeParse(p.example).success, `${where}: example of :${name} against the document`).toBe(true);
        path = path.replace(`:${name}`, encodeURIComponent(p.example));
      }
      let body: unknown;
      if (route.body) {
        const media = ((deref(doc, op['requestBody'])['content'] as Json)['application/json'] as Json);
        body = media['example'];
        expect(body, `${where}: the document carries the example`).toEqual(route.body.example);
        expect(validatorFor(doc, media['schema']).safeParse(body).error?.issues, `${where}: example against the document`).toBeUndefined();
        expect(route.body.schema.safeParse(body).error?.issues, `${where}: example against the route's zod schema`).toBeUndefined();
      }
      if (route.path === '/docs/:asset' || route.path === '/metrics') continue; // not JSON; checked below
      const res = await fetch(`${gw.url}${path}`, {
        method: route.method,
        headers: { authorization: admin, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      expect([400, 413, 415], `${where}: the route accepts the example (${text.slice(0, 300)})`).not.toContain(res.status);
      const documented = (op['responses'] as Json)[String(res.status)];
      expect(documented, `${where}: answered ${res.status}, which the document does not list`).toBeDefined();
      const media = (deref<Json>(doc, documented)['content'] as Record<string, { schema: unknown }> | undefined)?.['application/json'];
      if (media && text) {
        const parsed = validatorFor(doc, media.schema).safeParse(JSON.parse(text));
        expect(parsed.error?.issues, `${where} ${res.status}: the answer matches its schema: ${text.slice(0, 300)}`).toBeUndefined();
      }
      checked++;
    }
    expect(checked).toBeGreaterThan(25);
  });

  it('response schemas match real answers of the main reads and writes', async () => {
    const check = async (method: string, path: string, body?: unknown) => {
      const res = await gw.request(method, path, body === undefined ? {} : { body });
      const template = ROUTES.find((r) => r.method === method && new RegExp(`^${r.path.replace(/:\w+/g, '[^/]+')}$`).test(path.split('?')[0]!))!;
      const op = doc.paths[openApiPath(template.path)]![method.toLowerCase()] as Json;
      const documented = (op['responses'] as Json)[String(res.status)];
      expect(documented, `${method} ${path} → ${res.status}`).toBeDefined();
      const schema = (deref<Json>(doc, documented)['content'] as Record<string, { schema: unknown }>)['application/json']!.schema;
      expect(validatorFor(doc, schema).safeParse(res.body).error?.issues, `${method} ${path} → ${res.status}: ${JSON.stringify(res.body).slice(0, 300)}`).toBeUndefined();
      return res;
    };
    const submitted = await check('POST', '/v1/tasks', { skill: 'echo', input: { n: 1 } });
    expect(submitted.status).toBe(202);
    const taskId = submitted.body['taskId'] as string;
    await check('GET', `/v1/tasks/${taskId}`);
    await check('GET', `/v1/tasks/${taskId}/runs`);
    expect((await check('POST', '/v1/workflows', { name: 'acme.flow', version: 3, steps: [{ id: 'a', skill: 'echo' }] })).status).toBe(201);
    await check('GET', '/v1/workflows/acme.flow');
    await check('GET', '/v1/workflows/acme.flow/versions/3');
    expect((await check('POST', '/v1/keys', { name: 'doc', scopes: ['read'] })).status).toBe(201);
    await check('GET', '/v1/keys');
    await check('GET', '/v1/skills/echo');
    await check('GET', '/v1/skills?limit=1');
    // Errors: the one shape, as documented.
    expect((await check('POST', '/v1/tasks', { input: [] })).status).toBe(400);
    expect((await check('GET', `/v1/tasks/${randomUUID()}`)).status).toBe(404);
    expect((await check('GET', '/v1/tasks/not-a-uuid')).status).toBe(400);
    expect((await gw.request('GET', '/v1/keys', { headers: { authorization: '' } })).status).toBe(401);
  });
});

describe('the /docs page', () => {
  it('is Swagger UI served by the gateway: no inline script, a strict CSP, every file it loads served here', async () => {
    const res = await fetch(`${gw.url}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/default-src 'self'/);
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // every script is a file
    expect(html).not.toMatch(/\son\w+=/); // no inline handlers
    const links = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(links).toEqual(expect.arrayContaining(['docs/swagger-ui-bundle.js', 'docs/swagger-initializer.js', 'docs/swagger-ui.css']));
    for (const link of links) {
      expect(link, 'relative to the gateway, no CDN').not.toMatch(/^(https?:)?\/\//);
      const file = await fetch(new URL(link, `${gw.url}/docs`));
      expect(file.status, link).toBe(200);
      expect(file.headers.get('x-content-type-options')).toBe('nosniff');
      if (link.endsWith('.js')) expect(file.headers.get('content-type'), link).toMatch(/^text\/javascript/);
      if (link.endsWith('.css')) expect(file.headers.get('content-type'), link).toMatch(/^text\/css/);
    }
    const init = await (await fetch(`${gw.url}/docs/swagger-initializer.js`)).text();
    expect(init).toContain("'openapi.json'");
    expect(init).toContain('validatorUrl: null');
  });

  it('serves nothing else under /docs', async () => {
    for (const name of ['package.json', '..%2Fpackage.json', 'index.js', 'swagger-ui-bundle.js.map', '%2e%2e%2fetc%2fpasswd']) {
      const res = await gw.request('GET', `/docs/${name}`, { headers: { authorization: '' } });
      expect(res.status, name).toBe(404);
      expect(res.body).toMatchObject({ error: { code: 'not_found' } });
    }
  });
});
