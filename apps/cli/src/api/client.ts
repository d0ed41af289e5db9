// A small typed client of the gateway: fetch, `Authorization: Bearer`, the API's JSON errors, zod at the boundary.
import type { z } from 'zod';
import { ApiRequestError, CliError, EXIT } from '../errors.js';
import { ApiErrorBody } from './schemas.js';

export { ApiRequestError };

export interface RequestOptions<S extends z.ZodType> {
  query?: Record<string, string | number | boolean | readonly string[] | undefined>;
  /** A JSON body, or a string sent as is with `contentType`. */
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
  schema: S;
  signal?: AbortSignal;
}

export interface ApiResponse<T> {
  status: number;
  headers: Headers;
  data: T;
}

export interface ClientOptions {
  baseUrl: string;
  apiKey: string;
  fetch?: typeof fetch;
  /** How many times a 429 is retried after its Retry-After (default 3). */
  rateLimitRetries?: number;
  userAgent?: string;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });

export function buildUrl(baseUrl: string, path: string, query?: RequestOptions<z.ZodType>['query']): URL {
  const url = new URL(path.replace(/^\//, ''), baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const item of v as readonly string[]) url.searchParams.append(k, item);
    else url.searchParams.set(k, String(v));
  }
  return url;
}

export class ApiClient {
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly opts: ClientOptions) {
    this.fetchImpl = opts.fetch ?? fetch;
  }

  get baseUrl(): string {
    return this.opts.baseUrl;
  }

  get<S extends z.ZodType>(path: string, schema: S, query?: RequestOptions<S>['query']): Promise<z.infer<S>> {
    return this.request('GET', path, { schema, query }).then((r) => r.data);
  }

  post<S extends z.ZodType>(path: string, schema: S, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse<z.infer<S>>> {
    return this.request('POST', path, { schema, body: body ?? {}, ...(headers ? { headers } : {}) });
  }

  async request<S extends z.ZodType>(method: string, path: string, o: RequestOptions<S>): Promise<ApiResponse<z.infer<S>>> {
    const res = await this.send(method, path, o);
    const text = await res.text();
    let json: unknown = undefined;
    if (text !== '') {
      try {
        json = JSON.parse(text);
      } catch {
        throw new CliError(`${method} ${path}: the gateway answered ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`, EXIT.unavailable);
      }
    }
    const parsed = o.schema.safeParse(json);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      const where = first ? `${first.path.join('.') || '(root)'}: ${first.message}` : 'no detail';
      throw new CliError(`${method} ${path}: unexpected response from the gateway (${where}); is ${this.opts.baseUrl} a Steward gateway of this version?`, EXIT.unavailable);
    }
    return { status: res.status, headers: res.headers, data: parsed.data };
  }

  /**
   * Sends a request and returns the successful response unread (for streams); an error status becomes
   * ApiRequestError, a network failure a CliError. A 429 is retried after its Retry-After.
   */
  async send(method: string, path: string, o: Omit<RequestOptions<z.ZodType>, 'schema'> = {}): Promise<Response> {
    const url = buildUrl(this.opts.baseUrl, path, o.query);
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.opts.apiKey}`,
      accept: 'application/json',
      'user-agent': this.opts.userAgent ?? 'steward-cli',
      ...o.headers,
    };
    let body: string | undefined;
    if (o.body !== undefined && method !== 'GET') {
      if (typeof o.body === 'string' && o.contentType) body = o.body;
      else body = JSON.stringify(o.body);
      headers['content-type'] = o.contentType ?? 'application/json';
    }
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await this.fetchImpl(url, { method, headers, ...(body !== undefined ? { body } : {}), ...(o.signal ? { signal: o.signal } : {}) });
      } catch (err) {
        if ((err as Error).name === 'AbortError') throw err;
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        const why = cause?.code ?? cause?.message ?? (err as Error).message;
        throw new CliError(`cannot reach the gateway at ${this.opts.baseUrl} (${why})`, EXIT.unavailable);
      }
      if (res.ok) return res;
      if (res.status === 429 && attempt < (this.opts.rateLimitRetries ?? 3)) {
        await res.body?.cancel();
        const after = Number(res.headers.get('retry-after') ?? '1');
        await sleep((Number.isFinite(after) && after >= 0 ? Math.min(after, 30) : 1) * 1000, o.signal);
        continue;
      }
      throw await toApiError(res, `${method} ${url.pathname}`);
    }
  }
}

async function toApiError(res: Response, request: string): Promise<ApiRequestError> {
  const text = await res.text().catch(() => '');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = ApiErrorBody.safeParse(json);
  if (parsed.success) {
    const e = parsed.data.error;
    return new ApiRequestError(res.status, e.code, e.message, e.issues ?? [], request);
  }
  return new ApiRequestError(res.status, `http_${res.status}`, text.trim().slice(0, 300) || res.statusText || `HTTP ${res.status}`, [], request);
}
