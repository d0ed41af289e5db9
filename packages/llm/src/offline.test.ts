import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AnthropicProvider, DEFAULT_MODEL } from './anthropic-provider.js';
import { createProvider } from './create-provider.js';
import { isLlmError } from './errors.js';
import { OfflineProvider } from './offline-provider.js';
import { OFFLINE_MARKER } from './offline-value.js';
import { costOf, priceFor } from './pricing.js';
import { backoffMs, DEFAULT_RETRY_POLICY, retryAfterMs, waitBeforeRetryMs } from './retry.js';
import { UsageLedger } from './usage.js';

const Triage = z.object({
  summary: z.string().min(5).max(40),
  severity: z.enum(['low', 'medium', 'high']),
  score: z.number().min(1).max(10),
  count: z.number().int().positive(),
  tags: z.array(z.string()),
  owners: z.array(z.object({ id: z.string(), email: z.email() })).min(1),
  due: z.iso.datetime().optional(),
  note: z.string().nullable(),
  offline: z.boolean().optional(),
  kind: z.discriminatedUnion('type', [z.object({ type: z.literal('bug'), stack: z.string() }), z.object({ type: z.literal('ask') })]),
});

describe('OfflineProvider.complete', () => {
  const provider = new OfflineProvider();
  const prompt = 'Triage this incident: the payments API returns 502 since 10:02\nmore detail…';

  it('builds a schema-valid value, marked offline', async () => {
    const r = await provider.complete({ prompt, schema: Triage, schemaName: 'triage', taskId: 't1' });
    expect(Triage.safeParse(r.value).success).toBe(true);
    expect(r.offline).toBe(true);
    expect(r.model).toBe('offline');
    expect(r.attempts).toBe(0);
    expect(r.usage.costUsd).toBe(0);
    expect(r.value.offline).toBe(true);
    expect(r.value.summary.startsWith(OFFLINE_MARKER)).toBe(true);
    expect(r.value.summary.length).toBeLessThanOrEqual(40);
    expect(r.value.severity).toBe('low');
    expect(r.value.score).toBe(1);
    expect(r.value.count).toBe(1);
    expect(r.value.tags).toEqual([]);
    expect(r.value.owners).toHaveLength(1);
    expect(provider.ledger.get('t1')?.calls).toBe(1);
  });

  it('is deterministic: same input, same output', async () => {
    const a = await provider.complete({ prompt, schema: Triage, schemaName: 'triage' });
    const b = await new OfflineProvider().complete({ prompt, schema: Triage, schemaName: 'triage' });
    expect(b.value).toEqual(a.value);
    const other = await provider.complete({ prompt: 'something else entirely', schema: Triage, schemaName: 'triage' });
    expect(other.value.summary).not.toEqual(a.value.summary);
  });

  it('handles non-object schemas by wrapping them', async () => {
    const r = await provider.complete({ prompt: 'Name it', schema: z.string(), schemaName: 'name' });
    expect(r.value).toBe(`${OFFLINE_MARKER} Name it`);
    const list = await provider.complete({ prompt: 'x', schema: z.array(z.number()), schemaName: 'nums' });
    expect(list.value).toEqual([]);
  });

  it('says clearly when it cannot satisfy a schema (refinements)', async () => {
    const schema = z.object({ code: z.string().regex(/^[A-Z]{3}-\d{4}$/) });
    await expect(provider.complete({ prompt: 'x', schema, schemaName: 'code' })).rejects.toSatisfy((e) => isLlmError(e, 'invalid_output') && /offline provider cannot build/.test(e.message));
  });

  it('rejects an invalid tool name', async () => {
    await expect(provider.complete({ prompt: 'x', schema: z.object({}), schemaName: 'bad name!' })).rejects.toSatisfy((e) => isLlmError(e, 'bad_request'));
  });
});

describe('OfflineProvider.propose', () => {
  const provider = new OfflineProvider();
  const options = [
    { id: 'approve', label: 'Approve the refund' },
    { id: 'reject', label: 'Reject the refund' },
    { id: 'escalate', label: 'Escalate to finance' },
  ];

  it('picks the first option when nothing in the context names one', async () => {
    const p = await provider.propose({ question: 'Refund?', options, context: { amount: 12 } });
    expect(p).toMatchObject({ choice: 'approve', confidence: 0.5, offline: true, samples: 1 });
    expect(p.rationale).toMatch(/^offline provider: /);
    expect(p.agreement).toBeUndefined();
  });

  it('picks an option whose id or label appears in the context, and says where', async () => {
    const p = await provider.propose({ question: 'Refund?', options, context: { policy: { hint: 'Escalate to finance above 1000' }, amount: 5000 } });
    expect(p.choice).toBe('escalate');
    expect(p.rationale).toContain('policy.hint');
    const byId = await provider.propose({ question: 'Refund?', options, context: { previous: ['reject'] } });
    expect(byId.choice).toBe('reject');
    // Substrings inside other words do not count.
    const noMatch = await provider.propose({ question: 'Refund?', options, context: { note: 'rejected-ish unapproved' } });
    expect(noMatch.choice).toBe('approve');
  });

  it('is deterministic and reports full agreement across samples', async () => {
    const req = { question: 'Refund?', options, context: { says: 'reject' }, samples: 5 };
    const a = await provider.propose(req);
    expect(await provider.propose(req)).toEqual(a);
    expect(a).toMatchObject({ choice: 'reject', agreement: 1, samples: 5 });
  });

  it('validates options and samples', async () => {
    await expect(provider.propose({ question: 'q', options: [], context: {} })).rejects.toSatisfy((e) => isLlmError(e, 'bad_request'));
    await expect(provider.propose({ question: 'q', options: [options[0]!, options[0]!], context: {} })).rejects.toSatisfy((e) => isLlmError(e, 'bad_request'));
    await expect(provider.propose({ question: 'q', options, context: {}, samples: 0 })).rejects.toSatisfy((e) => isLlmError(e, 'bad_request'));
  });
});

describe('createProvider', () => {
  it('is offline without a key (blank counts as unset)', () => {
    expect(createProvider({}).kind).toBe('offline');
    expect(createProvider({ ANTHROPIC_API_KEY: '  ' }).kind).toBe('offline');
  });

  it('is Anthropic with a key, with env settings applied', () => {
    const p = createProvider({ ANTHROPIC_API_KEY: 'sk-test', LLM_MODEL: 'claude-opus-5', ANTHROPIC_BASE_URL: 'http://127.0.0.1:1' });
    expect(p).toBeInstanceOf(AnthropicProvider);
    expect(p.model).toBe('claude-opus-5');
    expect(createProvider({ ANTHROPIC_API_KEY: 'sk-test' }).model).toBe(DEFAULT_MODEL);
  });

  it('LLM_PROVIDER forces a choice', () => {
    expect(createProvider({ ANTHROPIC_API_KEY: 'sk-test', LLM_PROVIDER: 'offline' }).kind).toBe('offline');
    expect(() => createProvider({ LLM_PROVIDER: 'anthropic' })).toThrow(/ANTHROPIC_API_KEY is not set/);
  });

  it('rejects invalid values with the variable name', () => {
    expect(() => createProvider({ LLM_MAX_RETRIES: 'many' })).toThrow(/LLM_MAX_RETRIES/);
    expect(() => createProvider({ ANTHROPIC_BASE_URL: 'not a url' })).toThrow(/ANTHROPIC_BASE_URL/);
    expect(() => createProvider({ LLM_PRICES: '{oops' })).toThrow(/LLM_PRICES must be JSON/);
    expect(() => createProvider({ LLM_PROVIDER: 'openai' })).toThrow(/LLM_PROVIDER/);
  });
});

describe('pricing and ledger', () => {
  it('prices exact ids and dated snapshots, and reports unknown models', () => {
    expect(priceFor('claude-haiku-4-5-20251001')).toEqual(priceFor('claude-haiku-4-5'));
    expect(priceFor('claude-sonnet-5-5')).not.toEqual(priceFor('claude-sonnet-5'));
    expect(priceFor('claude-unknown-9')).toBeUndefined();
    // Sonnet 5: $2 in, $10 out, $0.20 cache read, $2.50 cache write per MTok.
    expect(costOf('claude-sonnet-5', { inputTokens: 1_000_000, outputTokens: 100_000, cacheReadTokens: 500_000, cacheWriteTokens: 200_000 })).toBeCloseTo(2 + 1 + 0.1 + 0.5, 10);
  });

  it('accumulates per task and per model, and round-trips a snapshot', () => {
    const ledger = new UsageLedger();
    const u = { inputTokens: 10, outputTokens: 5, cacheReadTokens: 1, cacheWriteTokens: 2, costUsd: 0.5, priced: true };
    const seen: string[] = [];
    ledger.onRecord((taskId) => seen.push(taskId));
    ledger.record('a', 'm1', u);
    ledger.record('a', 'm2', u);
    ledger.record(undefined, 'm1', u);
    expect(ledger.get('a')).toMatchObject({ calls: 2, inputTokens: 20, costUsd: 1, models: { m1: { calls: 1 }, m2: { calls: 1 } } });
    expect(ledger.total()).toMatchObject({ calls: 3, outputTokens: 15 });
    expect(seen).toEqual(['a', 'a', '(none)']);
    expect(UsageLedger.fromSnapshot(ledger.snapshot()).get('a')).toEqual(ledger.get('a'));
  });
});

describe('retry timing', () => {
  const headers = (h: Record<string, string>) => new Headers(h);

  it('reads retry-after-ms first, then retry-after seconds or date', () => {
    expect(retryAfterMs(headers({ 'retry-after-ms': '250', 'retry-after': '9' }))).toBe(250);
    expect(retryAfterMs(headers({ 'retry-after': '1.5' }))).toBe(1500);
    expect(retryAfterMs(headers({ 'retry-after': new Date(10_000).toUTCString() }), 4_000)).toBe(6_000);
    expect(retryAfterMs(headers({}))).toBeUndefined();
    expect(retryAfterMs(headers({ 'retry-after': 'soon' }))).toBeUndefined();
  });

  it('backs off exponentially with bounded jitter, and never waits less than retry-after', () => {
    const p = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 100, maxDelayMs: 1_000 };
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(n, p, () => 0))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffMs(3, p, () => 1)).toBe(300);
    expect(waitBeforeRetryMs(1, p, 1000, () => 0)).toBe(1000);
    expect(waitBeforeRetryMs(1, p, 1000, () => 1)).toBe(1100);
  });
});
