/**
 * A loopback stand-in for the Anthropic Messages API (POST /v1/messages), so the real SDK path is
 * tested without network: scripted replies in order, and every request recorded for assertions.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body (model, max_tokens, system, messages, tools, tool_choice…). */
  body: Record<string, unknown>;
  receivedAt: number;
  /** 1-based position among the requests this server received. */
  index: number;
}

export interface FakeResponse {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
  /** Wait this long before answering (for timeouts); cancelled if the client goes away. */
  delayMs?: number;
}

export type FakeHandler = (req: RecordedRequest) => FakeResponse | Promise<FakeResponse>;

export interface FakeUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

export interface MessageOptions {
  usage?: Partial<FakeUsage>;
  /** Defaults to the model the request named. */
  model?: string;
  stopReason?: 'end_turn' | 'max_tokens' | 'tool_use' | 'stop_sequence' | 'refusal';
}

const DEFAULT_USAGE: FakeUsage = { input_tokens: 100, output_tokens: 20, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };

function toolNameOf(body: Record<string, unknown>): string {
  const choice = body['tool_choice'];
  if (typeof choice === 'object' && choice !== null && 'name' in choice && typeof choice.name === 'string') return choice.name;
  const tools: unknown = body['tools'];
  const first: unknown = Array.isArray(tools) ? (tools as unknown[])[0] : undefined;
  if (typeof first === 'object' && first !== null && 'name' in first && typeof first.name === 'string') return first.name;
  return 'tool';
}

function message(req: RecordedRequest, content: unknown[], stopReason: string, opts: MessageOptions): FakeResponse {
  return {
    status: 200,
    body: {
      id: `msg_fake_${req.index}`,
      type: 'message',
      role: 'assistant',
      model: opts.model ?? (typeof req.body['model'] === 'string' ? req.body['model'] : 'claude-fake'),
      content,
      stop_reason: opts.stopReason ?? stopReason,
      stop_sequence: null,
      stop_details: null,
      container: null,
      diagnostics: null,
      usage: { ...DEFAULT_USAGE, cache_creation: null, inference_geo: null, output_tokens_details: null, server_tool_use: null, service_tier: 'standard', speed: null, ...opts.usage },
    },
  };
}

/** Error bodies are shaped as the API sends them: {type:'error', error:{type, message}, request_id}. */
function apiError(req: RecordedRequest, status: number, type: string, text: string, headers: Record<string, string> = {}): FakeResponse {
  return { status, headers, body: { type: 'error', error: { type, message: text }, request_id: `req_fake_${req.index}` } };
}

/** Builders for scripted replies. */
export const reply = {
  /** A tool_use answer with `input` (valid or not: the point is to test validation). */
  toolUse: (input: unknown, opts: MessageOptions & { name?: string } = {}): FakeHandler => (req) =>
    message(req, [{ type: 'tool_use', id: `toolu_fake_${req.index}`, name: opts.name ?? toolNameOf(req.body), input }], 'tool_use', opts),
  /** A text-only answer (the model ignored the tool). */
  text: (text: string, opts: MessageOptions = {}): FakeHandler => (req) => message(req, [{ type: 'text', text, citations: null }], 'end_turn', opts),
  error: (status: number, type: string, text: string, headers?: Record<string, string>): FakeHandler => (req) => apiError(req, status, type, text, headers),
  /** 429 rate_limit_error with retry-after (seconds) and/or retry-after-ms. */
  rateLimited: (opts: { retryAfter?: number | string; retryAfterMs?: number } = {}): FakeHandler => (req) =>
    apiError(req, 429, 'rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit', {
      ...(opts.retryAfter !== undefined && { 'retry-after': String(opts.retryAfter) }),
      ...(opts.retryAfterMs !== undefined && { 'retry-after-ms': String(opts.retryAfterMs) }),
    }),
  /** 529 overloaded_error, as Anthropic sends when the service is overloaded. */
  overloaded: (headers?: Record<string, string>): FakeHandler => (req) => apiError(req, 529, 'overloaded_error', 'Overloaded', headers),
  serverError: (status = 500): FakeHandler => (req) => apiError(req, status, 'api_error', 'Internal server error'),
  /** Answer with `then` after `ms` (use a delay beyond the client timeout to provoke one). */
  slow: (ms: number, then: FakeHandler): FakeHandler => async (req) => ({ ...(await then(req)), delayMs: ms }),
};

export interface FakeAnthropicOptions {
  /** Used when the queue is empty; defaults to a 500 that says the script ran out. */
  fallback?: FakeHandler;
}

export class FakeAnthropic {
  readonly requests: RecordedRequest[] = [];
  readonly #queue: FakeHandler[] = [];
  #fallback: FakeHandler;
  readonly #server: Server;
  readonly #timers = new Set<NodeJS.Timeout>();
  #url = '';

  private constructor(options: FakeAnthropicOptions) {
    this.#fallback = options.fallback ?? ((req) => apiError(req, 500, 'api_error', `fake-anthropic: no scripted response left for request ${req.index}`));
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.#handle(req.method ?? 'GET', req.url ?? '/', req.headers, Buffer.concat(chunks).toString('utf8'), res).catch((err: unknown) => {
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ type: 'error', error: { type: 'api_error', message: `fake-anthropic handler threw: ${String(err)}` } }));
        });
      });
    });
  }

  static async start(options: FakeAnthropicOptions = {}): Promise<FakeAnthropic> {
    const fake = new FakeAnthropic(options);
    await new Promise<void>((resolve, reject) => {
      fake.#server.once('error', reject);
      fake.#server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = fake.#server.address() as AddressInfo;
    fake.#url = `http://127.0.0.1:${port}`;
    return fake;
  }

  /** Base URL to hand to the SDK (baseURL). */
  get url(): string {
    return this.#url;
  }

  /** Scripted replies, consumed one per request in arrival order. */
  enqueue(...handlers: FakeHandler[]): this {
    this.#queue.push(...handlers);
    return this;
  }

  setFallback(handler: FakeHandler): this {
    this.#fallback = handler;
    return this;
  }

  /** Scripted replies not yet consumed. */
  get pending(): number {
    return this.#queue.length;
  }

  reset(): void {
    this.#queue.length = 0;
    this.requests.length = 0;
  }

  async close(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    // Keep-alive sockets from the SDK would otherwise hold close() open.
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(method: string, path: string, headers: IncomingHttpHeaders, raw: string, res: ServerResponse): Promise<void> {
    let body: Record<string, unknown> = {};
    let parseError: string | undefined;
    try {
      const parsed: unknown = raw ? JSON.parse(raw) : {};
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
      else parseError = 'body must be a JSON object';
    } catch (err) {
      parseError = `body is not JSON: ${String(err)}`;
    }
    const recorded: RecordedRequest = { method, path, headers, body, receivedAt: Date.now(), index: this.requests.length + 1 };
    this.requests.push(recorded);
    let response: FakeResponse;
    if (method !== 'POST' || !path.startsWith('/v1/messages')) response = apiError(recorded, 404, 'not_found_error', `fake-anthropic serves POST /v1/messages only, got ${method} ${path}`);
    else if (parseError) response = apiError(recorded, 400, 'invalid_request_error', parseError);
    else response = await (this.#queue.shift() ?? this.#fallback)(recorded);
    const send = () => {
      if (res.destroyed) return;
      res.writeHead(response.status, { 'content-type': 'application/json', 'request-id': `req_fake_${recorded.index}`, ...response.headers });
      res.end(JSON.stringify(response.body));
    };
    if (!response.delayMs) return send();
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      send();
    }, response.delayMs);
    this.#timers.add(timer);
    // A client that timed out has hung up; don't keep the timer (or the test) alive for it.
    res.on('close', () => {
      clearTimeout(timer);
      this.#timers.delete(timer);
    });
  }
}
