// HTTP skills: requests with a timeout, a response size cap, an optional host allow-list and idempotency keys.
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { defineSkill, SkillError, type SkillContext } from '../skill.js';
import { recall, remember } from './ledger.js';

const KiB = 1024;
const MiB = 1024 * KiB;
export const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
type Method = (typeof METHODS)[number];
const SAFE_METHODS = new Set<Method>(['GET', 'HEAD', 'OPTIONS']);

const urlField = z.url({ protocol: /^https?$/ }).describe('http or https URL.');
const allowedHostsField = z
  .array(z.string().min(1).max(253))
  .optional()
  .describe('If given, only these hosts may be contacted (also after redirects): exact names, or "*.example.com" for subdomains.');
const headersField = z.record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/), z.string()).default({}).describe('Extra request headers.');

export function hostAllowed(url: URL, allowed: string[] | undefined): boolean {
  if (!allowed) return true;
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  return allowed.some((a) => {
    const p = a.toLowerCase();
    return p.startsWith('*.') ? host.endsWith(p.slice(1)) : host === p;
  });
}

export interface HttpCall {
  url: string;
  method: Method;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  maxResponseBytes: number;
  allowedHosts?: string[] | undefined;
  maxRedirects: number;
  signal: AbortSignal;
  /** What to do when the body is larger than the cap: fail, or keep the first bytes. */
  onTooLarge: 'fail' | 'truncate';
}

export interface HttpResult {
  url: string;
  status: number;
  statusText: string;
  headers: Record<string, string>;
  body: Buffer;
  truncated: boolean;
  durationMs: number;
  redirects: number;
}

async function readCapped(res: Response, max: number, onTooLarge: 'fail' | 'truncate'): Promise<{ body: Buffer; truncated: boolean }> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (onTooLarge === 'fail' && Number.isFinite(declared) && declared > max) {
    await res.body?.cancel();
    throw new SkillError('response_too_large', `response is ${declared} bytes, more than the ${max} allowed`);
  }
  if (!res.body) return { body: Buffer.alloc(0), truncated: false };
  // The DOM-less typings leave the chunk type open; fetch bodies are byte streams.
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Buffer[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (size + value.byteLength > max) {
      await reader.cancel();
      if (onTooLarge === 'fail') throw new SkillError('response_too_large', `response is larger than the ${max} bytes allowed`);
      chunks.push(Buffer.from(value.subarray(0, max - size)));
      return { body: Buffer.concat(chunks), truncated: true };
    }
    chunks.push(Buffer.from(value));
    size += value.byteLength;
  }
  return { body: Buffer.concat(chunks), truncated: false };
}

/** One HTTP exchange, following redirects by hand so every hop is checked against the allow-list. */
export async function httpCall(c: HttpCall): Promise<HttpResult> {
  c.signal.throwIfAborted();
  const timeout = AbortSignal.timeout(c.timeoutMs);
  const signal = AbortSignal.any([c.signal, timeout]);
  const started = performance.now();
  let url = new URL(c.url);
  let method = c.method;
  let body = c.body;
  try {
    for (let redirects = 0; ; redirects++) {
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new SkillError('url_not_allowed', `only http and https are allowed: ${url.protocol}`);
      if (!hostAllowed(url, c.allowedHosts)) throw new SkillError('host_not_allowed', `host ${url.hostname} is not in the allow-list`);
      const res = await fetch(url, { method, headers: c.headers, ...(body !== undefined ? { body } : {}), redirect: 'manual', signal });
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location && c.maxRedirects > 0) {
        await res.body?.cancel();
        if (redirects >= c.maxRedirects) throw new SkillError('too_many_redirects', `more than ${c.maxRedirects} redirects`);
        url = new URL(location, url);
        // 303, and 301/302 after POST, turn into GET without a body, as browsers do.
        if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
          method = 'GET';
          body = undefined;
        }
        continue;
      }
      const { body: buf, truncated } = await readCapped(res, c.maxResponseBytes, c.onTooLarge);
      return {
        url: url.toString(),
        status: res.status,
        statusText: res.statusText,
        headers: Object.fromEntries(res.headers),
        body: buf,
        truncated,
        durationMs: Math.round(performance.now() - started),
        redirects,
      };
    }
  } catch (err) {
    if (err instanceof SkillError) throw err;
    if (c.signal.aborted) throw c.signal.reason;
    if (timeout.aborted) throw new SkillError('timeout', `no complete response from ${url.host} within ${c.timeoutMs} ms`, true);
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    throw new SkillError('network_error', `${err instanceof Error ? err.message : String(err)}${cause}`, true);
  }
}

const isText = (ct: string | undefined): boolean => !ct || /^text\/|json|xml|javascript|x-www-form-urlencoded|yaml|csv/i.test(ct);

// ------------------------------------------------------------------------------------------------ data.http.request

const HttpOutput = z.object({
  url: z.string().describe('Final URL after redirects.'),
  status: z.number().int(),
  statusText: z.string(),
  ok: z.boolean().describe('Status 200–299.'),
  headers: z.record(z.string(), z.string()),
  body: z.string().describe('Response body: text, or base64 for binary content (see bodyEncoding).'),
  bodyEncoding: z.enum(['utf8', 'base64']),
  json: z.unknown().optional().describe('The parsed body when it is JSON.'),
  bytes: z.number().int(),
  durationMs: z.number(),
  replayed: z.boolean().describe('True when this is the recorded response of an earlier attempt with the same key.'),
});
type HttpOutput = z.infer<typeof HttpOutput>;

export const httpRequest = defineSkill({
  name: 'data.http.request',
  category: 'data',
  description:
    'Makes an HTTP request with a timeout, a response size cap and an optional host allow-list; follows redirects within the allow-list. Non-GET requests carry the idempotency key as `Idempotency-Key` and a retry with the same key returns the recorded response instead of sending again.',
  sideEffects: 'irreversible',
  timeoutMs: 5 * 60_000,
  input: z.object({
    url: urlField,
    method: z.enum(METHODS).default('GET'),
    headers: headersField,
    json: z.unknown().optional().describe('Body sent as JSON (sets Content-Type).'),
    body: z.string().optional().describe('Raw text body (use json for JSON).'),
    query: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}).describe('Query parameters added to the URL.'),
    allowedHosts: allowedHostsField,
    timeoutMs: z.number().int().min(100).max(5 * 60_000).default(30_000),
    maxResponseBytes: z.number().int().min(1).max(50 * MiB).default(5 * MiB).describe('Larger responses fail with response_too_large.'),
    followRedirects: z.boolean().default(true),
    failOnHttpError: z.boolean().default(false).describe('Raise an error for status >= 400 (5xx and 429 retryable).'),
  }),
  output: HttpOutput,
  run: async (input, ctx) => {
    if (input.json !== undefined && input.body !== undefined) throw new SkillError('invalid_input', 'give either json or body, not both');
    if ((input.method === 'GET' || input.method === 'HEAD') && (input.json !== undefined || input.body !== undefined)) throw new SkillError('invalid_input', `${input.method} cannot have a body`);
    const safe = SAFE_METHODS.has(input.method);
    const scope = 'data.http.request';
    if (!safe) {
      const prior = HttpOutput.safeParse(await recall(scope, ctx.idempotencyKey));
      if (prior.success) return { ...prior.data, replayed: true };
    }
    const url = new URL(input.url);
    for (const [k, v] of Object.entries(input.query)) url.searchParams.append(k, String(v));
    const headers: Record<string, string> = { 'user-agent': 'steward-skill-worker', ...input.headers };
    if (input.json !== undefined) headers['content-type'] ??= 'application/json';
    if (!safe) headers['idempotency-key'] = ctx.idempotencyKey;
    const body = input.json !== undefined ? JSON.stringify(input.json) : input.body;
    const r = await httpCall({
      url: url.toString(),
      method: input.method,
      headers,
      ...(body !== undefined ? { body } : {}),
      timeoutMs: input.timeoutMs,
      maxResponseBytes: input.maxResponseBytes,
      allowedHosts: input.allowedHosts,
      maxRedirects: input.followRedirects ? 5 : 0,
      signal: ctx.signal,
      onTooLarge: 'fail',
    });
    if (input.failOnHttpError && r.status >= 400) {
      throw new SkillError(`http_${r.status}`, `${input.method} ${r.url} returned ${r.status} ${r.statusText}`, r.status >= 500 || r.status === 429);
    }
    const ct = r.headers['content-type'];
    const text = isText(ct);
    let json: unknown;
    if (ct && /json/i.test(ct) && r.body.length > 0) {
      try {
        json = JSON.parse(r.body.toString('utf8')) as unknown;
      } catch {
        // not valid JSON after all: the text body is still returned
      }
    }
    const out: HttpOutput = {
      url: r.url,
      status: r.status,
      statusText: r.statusText,
      ok: r.status >= 200 && r.status < 300,
      headers: r.headers,
      body: r.body.toString(text ? 'utf8' : 'base64'),
      bodyEncoding: text ? 'utf8' : 'base64',
      ...(json !== undefined ? { json } : {}),
      bytes: r.body.length,
      durationMs: r.durationMs,
      replayed: false,
    };
    // Only a delivered request (any status the server chose to give) is recorded; failures to connect are retried.
    if (!safe) await remember(scope, ctx.idempotencyKey, out);
    return out;
  },
});

// ------------------------------------------------------------------------------------------------ ops.http.healthcheck

export const healthcheck = defineSkill({
  name: 'ops.http.healthcheck',
  category: 'ops',
  description:
    'Checks an HTTP endpoint: status, latency, optional expected status and body substring, and a latency budget. An unreachable or failing endpoint is a result (healthy: false), not an error.',
  sideEffects: 'none',
  timeoutMs: 65_000,
  input: z.object({
    url: urlField,
    method: z.enum(['GET', 'HEAD']).default('GET'),
    headers: headersField,
    expectStatus: z.array(z.number().int().min(100).max(599)).optional().describe('Statuses that count as healthy; default any 2xx or 3xx.'),
    bodyContains: z.string().optional().describe('A substring the body must contain.'),
    maxLatencyMs: z.number().int().min(1).optional().describe('Slower responses count as unhealthy.'),
    timeoutMs: z.number().int().min(100).max(60_000).default(5_000),
    allowedHosts: allowedHostsField,
  }),
  output: z.object({
    healthy: z.boolean(),
    status: z.number().int().nullable().describe('null when no response arrived.'),
    latencyMs: z.number(),
    reason: z.string().nullable().describe('Why it is unhealthy.'),
    bodyMatched: z.boolean().nullable(),
  }),
  run: async (input, ctx) => {
    const started = performance.now();
    try {
      const r = await httpCall({
        url: input.url,
        method: input.method,
        headers: { 'user-agent': 'steward-healthcheck', ...input.headers },
        timeoutMs: input.timeoutMs,
        maxResponseBytes: MiB,
        allowedHosts: input.allowedHosts,
        maxRedirects: 0,
        signal: ctx.signal,
        onTooLarge: 'truncate',
      });
      const statusOk = input.expectStatus ? input.expectStatus.includes(r.status) : r.status >= 200 && r.status < 400;
      const bodyMatched = input.bodyContains === undefined ? null : r.body.toString('utf8').includes(input.bodyContains);
      const slow = input.maxLatencyMs !== undefined && r.durationMs > input.maxLatencyMs;
      const reason = !statusOk ? `unexpected status ${r.status}` : bodyMatched === false ? 'body does not contain the expected text' : slow ? `latency ${r.durationMs} ms over ${input.maxLatencyMs} ms` : null;
      return { healthy: reason === null, status: r.status, latencyMs: r.durationMs, reason, bodyMatched };
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      if (err instanceof SkillError && (err.code === 'host_not_allowed' || err.code === 'url_not_allowed')) throw err;
      return { healthy: false, status: null, latencyMs: Math.round(performance.now() - started), reason: err instanceof Error ? err.message : String(err), bodyMatched: null };
    }
  },
});

// ------------------------------------------------------------------------------------------------ ops.webhook.notify

export const SIGNATURE_HEADER = 'x-steward-signature';
export const TIMESTAMP_HEADER = 'x-steward-timestamp';
const SECRET_ENV = /^STEWARD_WEBHOOK_SECRET_[A-Z0-9_]+$/;

/** The signature a receiver recomputes: HMAC-SHA256 over "<timestamp>.<body>", hex, prefixed "sha256=". */
export const signWebhook = (secret: string, timestamp: string, body: string): string => `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;

const WebhookOutput = z.object({
  status: z.number().int(),
  durationMs: z.number(),
  signed: z.boolean(),
  responseBody: z.string().describe('First 64 KiB of the response.'),
  replayed: z.boolean().describe('True when an earlier attempt with this key was already delivered and nothing was sent now.'),
});

export const webhookNotify = defineSkill({
  name: 'ops.webhook.notify',
  category: 'ops',
  description: `POSTs a JSON payload to a webhook with an \`Idempotency-Key\` header; with a secret, signs it (\`${SIGNATURE_HEADER}: sha256=HMAC(secret, "<${TIMESTAMP_HEADER}>.<body>")\`). A 2xx is recorded, so a retry with the same key does not notify twice; 5xx and 429 fail retryably, other statuses fail for good.`,
  sideEffects: 'irreversible',
  timeoutMs: 65_000,
  input: z.object({
    url: urlField,
    payload: z.unknown().describe('JSON payload.'),
    secret: z.string().min(1).optional().describe('HMAC secret (prefer secretEnv so it is not stored with the step input).'),
    secretEnv: z.string().regex(SECRET_ENV).optional().describe('Name of a worker environment variable (STEWARD_WEBHOOK_SECRET_*) holding the secret.'),
    headers: headersField,
    allowedHosts: allowedHostsField,
    timeoutMs: z.number().int().min(100).max(60_000).default(10_000),
  }),
  output: WebhookOutput,
  run: async (input, ctx: SkillContext) => {
    const scope = 'ops.webhook.notify';
    const prior = WebhookOutput.safeParse(await recall(scope, ctx.idempotencyKey));
    if (prior.success) return { ...prior.data, replayed: true };
    let secret = input.secret;
    if (input.secretEnv) {
      secret = process.env[input.secretEnv];
      if (!secret) throw new SkillError('secret_missing', `environment variable ${input.secretEnv} is not set on the worker`);
    }
    const body = JSON.stringify(input.payload ?? null);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const headers: Record<string, string> = {
      'user-agent': 'steward-webhook',
      ...input.headers,
      'content-type': 'application/json',
      'idempotency-key': ctx.idempotencyKey,
      [TIMESTAMP_HEADER]: timestamp,
    };
    if (secret) headers[SIGNATURE_HEADER] = signWebhook(secret, timestamp, body);
    const r = await httpCall({ url: input.url, method: 'POST', headers, body, timeoutMs: input.timeoutMs, maxResponseBytes: 64 * KiB, allowedHosts: input.allowedHosts, maxRedirects: 0, signal: ctx.signal, onTooLarge: 'truncate' });
    if (r.status < 200 || r.status >= 300) {
      throw new SkillError(`webhook_${r.status}`, `webhook ${r.url} answered ${r.status} ${r.statusText}`, r.status >= 500 || r.status === 429 || r.status === 408);
    }
    const out = { status: r.status, durationMs: r.durationMs, signed: secret !== undefined, responseBody: r.body.toString('utf8'), replayed: false };
    await remember(scope, ctx.idempotencyKey, out);
    return out;
  },
});
