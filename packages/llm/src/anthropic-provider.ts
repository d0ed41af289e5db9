import Anthropic, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import type { ContentBlock, ContentBlockParam, Message, MessageCreateParamsNonStreaming, MessageParam, TextBlockParam, ToolChoice, ToolUseBlock } from '@anthropic-ai/sdk/resources/messages';
import { LlmError, type LlmErrorCode } from './errors.js';
import { assertToolName, describeIssues, toToolSchema, unwrapToolInput } from './json-schema.js';
import { costOf, DEFAULT_PRICES, type PriceTable } from './pricing.js';
import { aggregate, PROPOSAL_SYSTEM, proposalPrompt, proposalSchema, sumUsage, validateProposalRequest, type ProposalSample } from './propose.js';
import type { Completion, CompletionRequest, LlmProvider, Proposal, ProposalRequest } from './provider.js';
import { DEFAULT_RETRY_POLICY, retryAfterMs, sleep, waitBeforeRetryMs, type RetryPolicy } from './retry.js';
import { addUsage, emptyUsage, UsageLedger, type Usage } from './usage.js';

/** Supports forced tool_choice (Sonnet 5.5 rejects it) and is priced in DEFAULT_PRICES. */
export const DEFAULT_MODEL = 'claude-sonnet-5';
export const DEFAULT_BASE_URL = 'https://api.anthropic.com';
export const DEFAULT_TIMEOUT_MS = 120_000;
export const DEFAULT_MAX_TOKENS = 4096;
export const DEFAULT_MAX_SCHEMA_RETRIES = 2;

/** Models that answer a forced tool_choice with a 400; they get `auto` plus an instruction instead. */
export const MODELS_WITHOUT_FORCED_TOOL_CHOICE: readonly string[] = ['claude-sonnet-5-5'];

export type ToolChoiceMode = 'tool' | 'auto';

export interface AnthropicProviderConfig {
  apiKey: string;
  /** Defaults to https://api.anthropic.com (the SDK's own ANTHROPIC_BASE_URL lookup is bypassed). */
  baseURL?: string;
  model?: string;
  /** Per request, not per completion. */
  timeoutMs?: number;
  /** Transport retries per request (429, 529, 5xx, timeouts, connection errors). */
  maxRetries?: number;
  /** Extra requests after a tool input fails the schema. */
  maxSchemaRetries?: number;
  maxTokens?: number;
  /** Merged over DEFAULT_PRICES. */
  prices?: PriceTable;
  /** `tool` forces the tool; `auto` asks for it. Default: `tool`, unless the model rejects forcing. */
  toolChoice?: ToolChoiceMode;
  /** Backoff tuning; tests shrink it. maxRetries above wins over retry.maxRetries. */
  retry?: Partial<Omit<RetryPolicy, 'maxRetries'>>;
  ledger?: UsageLedger;
  /** Custom fetch (proxies, tests). */
  fetch?: typeof fetch;
  /** Concurrent samples in propose(); low so sampling does not trip rate limits by itself. */
  sampleConcurrency?: number;
}

interface Classified {
  code: LlmErrorCode;
  retryable: boolean;
  status?: number;
  detail: string;
}

/** instanceof narrows to APIError<any, any, any>; this pins the declared defaults instead. */
function apiErrorOf(err: unknown): APIError | undefined {
  return err instanceof APIError ? (err as APIError) : undefined;
}

function classify(err: unknown, timeoutMs: number): Classified {
  if (err instanceof APIUserAbortError) return { code: 'aborted', retryable: false, detail: 'the request was aborted' };
  if (err instanceof APIConnectionTimeoutError) return { code: 'timeout', retryable: true, detail: `no response within ${timeoutMs} ms` };
  if (err instanceof APIConnectionError) return { code: 'unavailable', retryable: true, detail: `connection failed (${err.message})` };
  const apiErr = apiErrorOf(err);
  if (apiErr) {
    const status = apiErr.status;
    const body = [apiErr.type, apiErr.apiMessage ? `"${apiErr.apiMessage}"` : undefined].filter(Boolean).join(' ');
    const detail = `HTTP ${status ?? '?'}${body ? ` ${body}` : ''}`;
    const serverSays = apiErr.headers?.get('x-should-retry');
    const retryable = (ok: boolean) => (serverSays === 'false' ? false : serverSays === 'true' ? true : ok);
    if (status === 529 || apiErr.type === 'overloaded_error') return { code: 'overloaded', retryable: retryable(true), status, detail };
    if (status === 429) return { code: 'rate_limited', retryable: retryable(true), status, detail };
    if (status === 408) return { code: 'timeout', retryable: retryable(true), status, detail };
    if (status === 401 || status === 403) return { code: 'auth', retryable: false, status, detail };
    if (status !== undefined && (status >= 500 || status === 409)) return { code: 'unavailable', retryable: retryable(true), status, detail };
    return { code: 'bad_request', retryable: retryable(false), status, detail };
  }
  return { code: 'bad_request', retryable: false, detail: err instanceof Error ? err.message : String(err) };
}

function usageOf(message: Message, prices: PriceTable): Usage {
  const u = message.usage;
  const tokens = {
    inputTokens: u.input_tokens,
    outputTokens: u.output_tokens,
    cacheReadTokens: u.cache_read_input_tokens ?? 0,
    cacheWriteTokens: u.cache_creation_input_tokens ?? 0,
  };
  const cost = costOf(message.model, tokens, prices);
  return { ...tokens, costUsd: cost ?? 0, priced: cost !== undefined };
}

/** The assistant turn replayed on a schema retry; thinking blocks must go back unchanged. */
function toParams(content: readonly ContentBlock[]): ContentBlockParam[] {
  const out: ContentBlockParam[] = [];
  for (const block of content) {
    switch (block.type) {
      case 'text':
        out.push({ type: 'text', text: block.text });
        break;
      case 'tool_use':
        out.push({ type: 'tool_use', id: block.id, name: block.name, input: block.input });
        break;
      case 'thinking':
        out.push({ type: 'thinking', thinking: block.thinking, signature: block.signature });
        break;
      case 'redacted_thinking':
        out.push({ type: 'redacted_thinking', data: block.data });
        break;
      default:
        break;
    }
  }
  return out;
}

/** Claude through @anthropic-ai/sdk: structured output via one tool, with retries we control and count. */
export class AnthropicProvider implements LlmProvider {
  readonly kind = 'anthropic' as const;
  readonly model: string;
  readonly ledger: UsageLedger;
  readonly #client: Anthropic;
  readonly #timeoutMs: number;
  readonly #retry: RetryPolicy;
  readonly #maxSchemaRetries: number;
  readonly #maxTokens: number;
  readonly #prices: PriceTable;
  readonly #toolChoice: ToolChoiceMode;
  readonly #sampleConcurrency: number;

  constructor(config: AnthropicProviderConfig) {
    if (!config.apiKey) throw new LlmError('config', 'AnthropicProvider needs an apiKey (use OfflineProvider without one)');
    this.model = config.model ?? DEFAULT_MODEL;
    this.ledger = config.ledger ?? new UsageLedger();
    this.#timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#retry = { ...DEFAULT_RETRY_POLICY, ...config.retry, maxRetries: config.maxRetries ?? DEFAULT_RETRY_POLICY.maxRetries };
    this.#maxSchemaRetries = config.maxSchemaRetries ?? DEFAULT_MAX_SCHEMA_RETRIES;
    this.#maxTokens = config.maxTokens ?? DEFAULT_MAX_TOKENS;
    this.#prices = { ...DEFAULT_PRICES, ...config.prices };
    this.#toolChoice = config.toolChoice ?? (MODELS_WITHOUT_FORCED_TOOL_CHOICE.includes(this.model) ? 'auto' : 'tool');
    this.#sampleConcurrency = Math.max(1, config.sampleConcurrency ?? 3);
    for (const [name, value] of [['timeoutMs', this.#timeoutMs], ['maxRetries', this.#retry.maxRetries], ['maxSchemaRetries', this.#maxSchemaRetries], ['maxTokens', this.#maxTokens]] as const) {
      if (!Number.isInteger(value) || value < (name === 'maxRetries' || name === 'maxSchemaRetries' ? 0 : 1)) throw new LlmError('config', `${name} must be a non-negative integer (positive for timeouts and tokens), got ${value}`);
    }
    this.#client = new Anthropic({
      apiKey: config.apiKey,
      baseURL: config.baseURL ?? DEFAULT_BASE_URL,
      timeout: this.#timeoutMs,
      // Retries happen in #send so they are counted, capped and reported with our error codes.
      maxRetries: 0,
      ...(config.fetch ? { fetch: config.fetch } : {}),
    });
  }

  async complete<T>(req: CompletionRequest<T>): Promise<Completion<T>> {
    assertToolName(req.schemaName);
    const { inputSchema, wrapped } = toToolSchema(req.schema);
    const system: TextBlockParam[] = [];
    // Stable text first: the cache prefix runs tools → system, so the skill body must lead.
    if (req.cacheableSystem) system.push({ type: 'text', text: req.cacheableSystem, cache_control: { type: 'ephemeral' } });
    const forced = this.#toolChoice === 'tool';
    const instruction = forced ? undefined : `Respond only by calling the ${req.schemaName} tool exactly once.`;
    const systemText = [req.system, instruction].filter(Boolean).join('\n\n');
    if (systemText) system.push({ type: 'text', text: systemText });
    const toolChoice: ToolChoice = forced ? { type: 'tool', name: req.schemaName, disable_parallel_tool_use: true } : { type: 'auto', disable_parallel_tool_use: true };
    const messages: MessageParam[] = [{ role: 'user', content: req.prompt }];
    const state = { attempts: 0, usage: emptyUsage(), model: this.model };
    let problem = '';
    try {
      for (let round = 0; round <= this.#maxSchemaRetries; round++) {
        const params: MessageCreateParamsNonStreaming = {
          model: this.model,
          max_tokens: req.maxTokens ?? this.#maxTokens,
          messages: [...messages],
          tools: [{ name: req.schemaName, description: req.schemaDescription ?? `Return the ${req.schemaName} value. The input must match the schema exactly.`, input_schema: inputSchema }],
          tool_choice: toolChoice,
          ...(system.length ? { system } : {}),
        };
        const message = await this.#send(params, req.signal, state);
        state.usage = addUsage(state.usage, usageOf(message, this.#prices));
        state.model = message.model;
        const toolUse = message.content.find((b): b is ToolUseBlock => b.type === 'tool_use' && b.name === req.schemaName);
        const assistant = toParams(message.content);
        if (!toolUse) {
          problem = message.stop_reason === 'max_tokens'
            ? `the output hit max_tokens (${params.max_tokens}) before calling ${req.schemaName}`
            : `the model did not call ${req.schemaName} (stop_reason ${message.stop_reason ?? 'null'})`;
          if (assistant.length) messages.push({ role: 'assistant', content: assistant });
          messages.push({ role: 'user', content: `You must answer by calling the ${req.schemaName} tool with input matching its schema.` });
          continue;
        }
        const parsed = req.schema.safeParse(unwrapToolInput(toolUse.input, wrapped));
        if (parsed.success) return { value: parsed.data, usage: state.usage, model: state.model, offline: false, attempts: state.attempts };
        problem = describeIssues(parsed.error);
        if (message.stop_reason === 'max_tokens') problem = `the output hit max_tokens (${params.max_tokens}) mid tool call\n${problem}`;
        messages.push(
          { role: 'assistant', content: assistant },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUse.id, is_error: true, content: `The input did not match the schema:\n${problem}\nCall ${req.schemaName} again with corrected input.` }] },
        );
      }
      const tries = this.#maxSchemaRetries + 1;
      throw new LlmError('invalid_output', `${this.model} gave no valid "${req.schemaName}" in ${tries} ${tries === 1 ? 'try' : 'tries'} (maxSchemaRetries ${this.#maxSchemaRetries}); last problem:\n${problem}`, { attempts: state.attempts });
    } finally {
      // Tokens are spent whether or not the value was usable, so failures are accounted too.
      if (state.attempts > 0) this.ledger.record(req.taskId, state.model, state.usage);
    }
  }

  async propose(req: ProposalRequest): Promise<Proposal> {
    const n = validateProposalRequest(req);
    const schema = proposalSchema(req.options);
    const prompt = proposalPrompt(req);
    // One failed sample fails the proposal, so the rest are cancelled rather than paid for.
    const controller = new AbortController();
    const onAbort = () => controller.abort(req.signal?.reason);
    req.signal?.addEventListener('abort', onAbort, { once: true });
    if (req.signal?.aborted) onAbort();
    const results: Array<{ value: ProposalSample; usage: Usage }> = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < n && !controller.signal.aborted) {
        next++;
        const r = await this.complete({ system: PROPOSAL_SYSTEM, prompt, schema, schemaName: 'propose_choice', schemaDescription: 'Record the chosen option, your confidence and rationale.', signal: controller.signal, ...(req.taskId !== undefined ? { taskId: req.taskId } : {}) });
        results.push({ value: r.value, usage: r.usage });
      }
    };
    try {
      const settled = await Promise.allSettled(Array.from({ length: Math.min(n, this.#sampleConcurrency) }, async () => {
        try {
          await worker();
        } catch (err) {
          controller.abort(err);
          throw err;
        }
      }));
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) throw failed.reason;
    } finally {
      req.signal?.removeEventListener('abort', onAbort);
    }
    return aggregate(results.map((r) => r.value), req.options, sumUsage(results.map((r) => r.usage)), false);
  }

  /** One request with transport retries; counts every attempt into state.attempts. */
  async #send(params: MessageCreateParamsNonStreaming, signal: AbortSignal | undefined, state: { attempts: number }): Promise<Message> {
    for (let attempt = 1; ; attempt++) {
      state.attempts++;
      try {
        return await this.#client.messages.create(params, { signal: signal ?? null, timeout: this.#timeoutMs, maxRetries: 0 });
      } catch (err) {
        const c = classify(err, this.#timeoutMs);
        const apiErr = apiErrorOf(err);
        const requestId = apiErr?.requestID ?? undefined;
        const base = { status: c.status, attempts: state.attempts, cause: err, ...(requestId ? { requestId } : {}) };
        if (c.code === 'aborted' || signal?.aborted) throw new LlmError('aborted', 'the request was aborted by the caller', base);
        const serverWait = retryAfterMs(apiErr?.headers);
        const tooLong = serverWait !== undefined && serverWait > this.#retry.maxRetryAfterMs;
        if (!c.retryable || attempt > this.#retry.maxRetries || tooLong) {
          const why = !c.retryable
            ? 'not retryable'
            : tooLong
              ? `the server asked to wait ${Math.round(serverWait / 1000)} s, more than maxRetryAfterMs ${this.#retry.maxRetryAfterMs}`
              : `gave up after ${attempt} ${attempt === 1 ? 'attempt' : 'attempts'} (maxRetries ${this.#retry.maxRetries})`;
          throw new LlmError(c.code, `Anthropic ${c.code.replace('_', ' ')}: ${c.detail}; ${why}`, base);
        }
        await sleep(waitBeforeRetryMs(attempt, this.#retry, serverWait), signal);
      }
    }
  }
}
