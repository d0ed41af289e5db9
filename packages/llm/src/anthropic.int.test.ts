import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AnthropicProvider, type AnthropicProviderConfig } from './anthropic-provider.js';
import { createProvider } from './create-provider.js';
import { isLlmError, type LlmError } from './errors.js';
import { UsageLedger } from './usage.js';
import { FakeAnthropic, reply } from './testing/fake-anthropic.js';

const Verdict = z.object({
  decision: z.enum(['approve', 'reject']),
  reason: z.string().min(1),
  risk: z.number().min(0).max(1),
});

let fake: FakeAnthropic;
beforeAll(async () => {
  fake = await FakeAnthropic.start();
});
afterAll(async () => {
  await fake.close();
});
afterEach(() => {
  expect(fake.pending, 'every scripted reply was consumed').toBe(0);
  fake.reset();
});

// Tiny backoff keeps tests fast; retry-after from the server still applies in full.
function provider(config: Partial<AnthropicProviderConfig> = {}): AnthropicProvider {
  return new AnthropicProvider({ apiKey: 'sk-fake', baseURL: fake.url, model: 'claude-sonnet-5', timeoutMs: 5_000, maxRetries: 2, retry: { baseDelayMs: 5, maxDelayMs: 20 }, ...config });
}

async function failure(p: Promise<unknown>): Promise<LlmError> {
  try {
    await p;
  } catch (err) {
    if (isLlmError(err)) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

const ask = { prompt: 'Should we refund order 42?', schema: Verdict, schemaName: 'verdict' } as const;

describe('AnthropicProvider.complete (real SDK against the fake Messages API)', () => {
  it('round-trips a tool_use value and sends the tool, tool_choice, cached system and model', async () => {
    fake.enqueue(reply.toolUse({ decision: 'approve', reason: 'within policy', risk: 0.1 }, { usage: { input_tokens: 1000, output_tokens: 200, cache_read_input_tokens: 3000, cache_creation_input_tokens: 500 } }));
    const ledger = new UsageLedger();
    const p = provider({ ledger, maxTokens: 777 });
    const r = await p.complete({ ...ask, system: 'Be terse.', cacheableSystem: 'SKILL: refunds policy…', taskId: 'task-1' });

    expect(r).toMatchObject({ value: { decision: 'approve', reason: 'within policy', risk: 0.1 }, offline: false, attempts: 1, model: 'claude-sonnet-5' });
    // Sonnet 5 per MTok: $2 input, $10 output, $0.20 cache read, $2.50 cache write.
    const cost = (1000 * 2 + 200 * 10 + 3000 * 0.2 + 500 * 2.5) / 1e6;
    expect(r.usage).toEqual({ inputTokens: 1000, outputTokens: 200, cacheReadTokens: 3000, cacheWriteTokens: 500, costUsd: cost, priced: true });
    expect(ledger.get('task-1')).toMatchObject({ calls: 1, inputTokens: 1000, cacheReadTokens: 3000, cacheWriteTokens: 500, costUsd: cost });

    expect(fake.requests).toHaveLength(1);
    const req = fake.requests[0]!;
    expect(req.path).toBe('/v1/messages');
    expect(req.headers['authorization'] ?? req.headers['x-api-key']).toContain('sk-fake');
    expect(req.body).toMatchObject({
      model: 'claude-sonnet-5',
      max_tokens: 777,
      tool_choice: { type: 'tool', name: 'verdict' },
      messages: [{ role: 'user', content: ask.prompt }],
      system: [
        { type: 'text', text: 'SKILL: refunds policy…', cache_control: { type: 'ephemeral' } },
        { type: 'text', text: 'Be terse.' },
      ],
    });
    const tools = req.body['tools'] as Array<{ name: string; input_schema: Record<string, unknown> }>;
    expect(tools).toHaveLength(1);
    expect(tools[0]!.name).toBe('verdict');
    expect(tools[0]!.input_schema).toMatchObject({
      type: 'object',
      properties: { decision: { type: 'string', enum: ['approve', 'reject'] }, reason: { type: 'string', minLength: 1 }, risk: { type: 'number', minimum: 0, maximum: 1 } },
      required: ['decision', 'reason', 'risk'],
    });
    expect(tools[0]!.input_schema).not.toHaveProperty('$schema');
    expect((req.body['system'] as unknown[])[1]).not.toHaveProperty('cache_control');
  });

  it('wraps a non-object schema in {value} and unwraps the answer', async () => {
    fake.enqueue(reply.toolUse({ value: ['a', 'b'] }));
    const r = await provider().complete({ prompt: 'List two letters', schema: z.array(z.string()).length(2), schemaName: 'letters' });
    expect(r.value).toEqual(['a', 'b']);
    expect((fake.requests[0]!.body['tools'] as Array<{ input_schema: unknown }>)[0]!.input_schema).toMatchObject({ type: 'object', required: ['value'], properties: { value: { type: 'array' } } });
  });

  it('rejects malformed tool input, tells the model what was wrong, and succeeds on retry', async () => {
    fake.enqueue(reply.toolUse({ decision: 'maybe', risk: 7 }), reply.toolUse({ decision: 'reject', reason: 'fraud signals', risk: 0.8 }));
    const ledger = new UsageLedger();
    const r = await provider({ ledger }).complete({ ...ask, taskId: 't' });
    expect(r.value.decision).toBe('reject');
    expect(r.attempts).toBe(2);
    expect(r.usage.inputTokens).toBe(200); // both requests are paid for
    expect(ledger.get('t')?.inputTokens).toBe(200);

    const retry = fake.requests[1]!.body['messages'] as Array<{ role: string; content: unknown }>;
    expect(retry).toHaveLength(3);
    expect(retry[1]).toMatchObject({ role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_fake_1', name: 'verdict', input: { decision: 'maybe', risk: 7 } }] });
    expect(retry[2]).toMatchObject({ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_fake_1', is_error: true }] });
    const feedback = (retry[2]!.content as Array<{ content: string }>)[0]!.content;
    expect(feedback).toContain('decision');
    expect(feedback).toContain('reason');
    expect(feedback).toContain('risk');
  });

  it('asks again when the model answers in text instead of calling the tool', async () => {
    fake.enqueue(reply.text('I think approve.'), reply.toolUse({ decision: 'approve', reason: 'ok', risk: 0 }));
    const r = await provider().complete(ask);
    expect(r.value.decision).toBe('approve');
    const retry = fake.requests[1]!.body['messages'] as Array<{ role: string; content: unknown }>;
    expect(retry.at(-1)).toMatchObject({ role: 'user', content: expect.stringContaining('verdict tool') as unknown });
  });

  it('fails with invalid_output once schema retries are exhausted, and still accounts the tokens', async () => {
    fake.enqueue(reply.toolUse({ decision: 'maybe' }), reply.toolUse({ decision: 'maybe' }), reply.toolUse({ decision: 'maybe' }));
    const ledger = new UsageLedger();
    const err = await failure(provider({ ledger, maxSchemaRetries: 2 }).complete({ ...ask, taskId: 'bad' }));
    expect(err.code).toBe('invalid_output');
    expect(err.attempts).toBe(3);
    expect(err.message).toMatch(/no valid "verdict" in 3 tries/);
    expect(err.message).toContain('decision');
    expect(fake.requests).toHaveLength(3);
    expect(ledger.get('bad')).toMatchObject({ calls: 1, inputTokens: 300 });
  });

  it('waits out a 429 retry-after (seconds) then succeeds', async () => {
    fake.enqueue(reply.rateLimited({ retryAfter: 1 }), reply.toolUse({ decision: 'approve', reason: 'ok', risk: 0 }));
    const r = await provider().complete(ask);
    expect(r.attempts).toBe(2);
    const waited = fake.requests[1]!.receivedAt - fake.requests[0]!.receivedAt;
    expect(waited).toBeGreaterThanOrEqual(950);
    expect(waited).toBeLessThan(2_500);
  });

  it('honours retry-after-ms in preference to retry-after', async () => {
    fake.enqueue(reply.rateLimited({ retryAfterMs: 300, retryAfter: 30 }), reply.toolUse({ decision: 'approve', reason: 'ok', risk: 0 }));
    const r = await provider().complete(ask);
    expect(r.attempts).toBe(2);
    const waited = fake.requests[1]!.receivedAt - fake.requests[0]!.receivedAt;
    expect(waited).toBeGreaterThanOrEqual(290);
    expect(waited).toBeLessThan(1_500);
  });

  it('gives up on repeated 429 with rate_limited', async () => {
    fake.enqueue(reply.rateLimited({ retryAfterMs: 10 }), reply.rateLimited({ retryAfterMs: 10 }));
    const err = await failure(provider({ maxRetries: 1 }).complete(ask));
    expect(err).toMatchObject({ code: 'rate_limited', status: 429, attempts: 2 });
    expect(err.message).toMatch(/429/);
  });

  it('does not park the caller when retry-after exceeds maxRetryAfterMs', async () => {
    fake.enqueue(reply.rateLimited({ retryAfter: 3600 }));
    const err = await failure(provider({ retry: { maxRetryAfterMs: 5_000 } }).complete(ask));
    expect(err).toMatchObject({ code: 'rate_limited', attempts: 1 });
    expect(err.message).toMatch(/asked to wait 3600 s/);
  });

  it('fails with overloaded after maxRetries of 529, naming the status and attempts', async () => {
    fake.enqueue(reply.overloaded(), reply.overloaded(), reply.overloaded());
    const err = await failure(provider({ maxRetries: 2 }).complete(ask));
    expect(err).toMatchObject({ code: 'overloaded', status: 529, attempts: 3, requestId: 'req_fake_3' });
    expect(err.message).toContain('529');
    expect(err.message).toContain('overloaded_error');
    expect(err.message).toContain('3 attempts');
    expect(fake.requests).toHaveLength(3);
  });

  it('recovers from 529 then 500 with backoff', async () => {
    fake.enqueue(reply.overloaded(), reply.serverError(500), reply.toolUse({ decision: 'approve', reason: 'ok', risk: 0 }));
    const r = await provider({ maxRetries: 2 }).complete(ask);
    expect(r.attempts).toBe(3);
  });

  it('maps exhausted 5xx to unavailable', async () => {
    fake.enqueue(reply.serverError(503), reply.serverError(503));
    const err = await failure(provider({ maxRetries: 1 }).complete(ask));
    expect(err).toMatchObject({ code: 'unavailable', status: 503, attempts: 2 });
  });

  it('does not retry a 400 or 401', async () => {
    fake.enqueue(reply.error(400, 'invalid_request_error', 'tool_choice: forced tool use is not supported'));
    expect(await failure(provider().complete(ask))).toMatchObject({ code: 'bad_request', status: 400, attempts: 1 });
    fake.enqueue(reply.error(401, 'authentication_error', 'invalid x-api-key'));
    expect(await failure(provider().complete(ask))).toMatchObject({ code: 'auth', status: 401, attempts: 1 });
  });

  it('times out slow responses with the timeout code, retrying up to maxRetries', async () => {
    fake.enqueue(reply.slow(2_000, reply.toolUse({ decision: 'approve', reason: 'late', risk: 0 })), reply.slow(2_000, reply.toolUse({ decision: 'approve', reason: 'late', risk: 0 })));
    const started = Date.now();
    const err = await failure(provider({ timeoutMs: 200, maxRetries: 1 }).complete(ask));
    expect(err).toMatchObject({ code: 'timeout', attempts: 2 });
    expect(err.message).toMatch(/200 ms/);
    expect(Date.now() - started).toBeLessThan(1_900);
  });

  it('stops when the caller aborts', async () => {
    fake.enqueue(reply.slow(2_000, reply.toolUse({ decision: 'approve', reason: 'late', risk: 0 })));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    expect(await failure(provider().complete({ ...ask, signal: controller.signal }))).toMatchObject({ code: 'aborted' });
  });

  it('uses tool_choice auto plus an instruction for models that reject forced tool use', async () => {
    fake.enqueue(reply.toolUse({ decision: 'approve', reason: 'ok', risk: 0 }));
    await provider({ model: 'claude-sonnet-5-5' }).complete(ask);
    expect(fake.requests[0]!.body['tool_choice']).toMatchObject({ type: 'auto' });
    expect(JSON.stringify(fake.requests[0]!.body['system'])).toContain('calling the verdict tool');
  });
});

describe('AnthropicProvider.propose', () => {
  const options = [
    { id: 'approve', label: 'Approve' },
    { id: 'reject', label: 'Reject' },
    { id: 'escalate', label: 'Escalate' },
  ];

  it('computes agreement across n samples from differing answers', async () => {
    fake.enqueue(
      reply.toolUse({ choice: 'approve', confidence: 0.9, rationale: 'small amount' }),
      reply.toolUse({ choice: 'reject', confidence: 0.6, rationale: 'new customer' }),
      reply.toolUse({ choice: 'approve', confidence: 0.7, rationale: 'loyal customer' }),
      reply.toolUse({ choice: 'escalate', confidence: 0.4, rationale: 'unclear' }),
      reply.toolUse({ choice: 'approve', confidence: 0.8, rationale: 'within policy' }),
    );
    const ledger = new UsageLedger();
    const p = await provider({ ledger }).propose({ question: 'Refund order 42?', options, context: { amount: 20 }, samples: 5, taskId: 'esc-1' });
    expect(p.choice).toBe('approve');
    expect(p.agreement).toBeCloseTo(3 / 5, 10);
    expect(p.confidence).toBeCloseTo((0.9 + 0.7 + 0.8) / 3, 10);
    expect(p.rationale).toBe('small amount');
    expect(p).toMatchObject({ samples: 5, offline: false });
    expect(p.usage.inputTokens).toBe(500);
    expect(ledger.get('esc-1')?.calls).toBe(5);

    const body = fake.requests[0]!.body;
    expect(body['tool_choice']).toMatchObject({ type: 'tool', name: 'propose_choice' });
    const schema = (body['tools'] as Array<{ input_schema: { properties: { choice: unknown } } }>)[0]!.input_schema;
    expect(schema.properties.choice).toMatchObject({ enum: ['approve', 'reject', 'escalate'] });
    expect(JSON.stringify(body['messages'])).toContain('amount');
  });

  it('rejects a choice that is not one of the options, then accepts a valid one', async () => {
    fake.enqueue(reply.toolUse({ choice: 'refund', confidence: 0.9, rationale: 'x' }), reply.toolUse({ choice: 'reject', confidence: 0.55, rationale: 'y' }));
    const p = await provider().propose({ question: 'q', options, context: {} });
    expect(p).toMatchObject({ choice: 'reject', confidence: 0.55 });
    expect(p.agreement).toBeUndefined();
  });

  it('fails the proposal when a sample fails', async () => {
    fake.enqueue(reply.error(400, 'invalid_request_error', 'bad'), reply.toolUse({ choice: 'reject', confidence: 0.5, rationale: 'y' }));
    const err = await failure(provider({ sampleConcurrency: 1 }).propose({ question: 'q', options, context: {}, samples: 2 }));
    expect(err.code).toBe('bad_request');
    fake.reset(); // the second reply was never needed
  });
});

describe('createProvider with a key', () => {
  it('talks to ANTHROPIC_BASE_URL with LLM_MODEL', async () => {
    fake.enqueue(reply.toolUse({ decision: 'reject', reason: 'r', risk: 1 }));
    const p = createProvider({ ANTHROPIC_API_KEY: 'sk-env', ANTHROPIC_BASE_URL: fake.url, LLM_MODEL: 'claude-haiku-4-5' });
    const r = await p.complete(ask);
    expect(r.offline).toBe(false);
    expect(fake.requests[0]!.body['model']).toBe('claude-haiku-4-5');
  });
});
