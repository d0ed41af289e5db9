// The Claude path of the prompt and text skills: the real SDK against a local fake of the Messages API.
import { AnthropicProvider } from '@steward/llm';
import { FakeAnthropic, reply } from '@steward/llm/testing';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf } from '../../invocations/execute-invocation.js';
import { loadPromptSkills } from './prompt-skills.js';
import { textLlmSkills } from './text-llm.js';

let fake: FakeAnthropic;
let provider: AnthropicProvider;
let dir: string;
const ctx = { idempotencyKey: 'k', tenantId: 't1', taskId: 'task-1', attempt: 1, signal: new AbortController().signal };

beforeAll(async () => {
  fake = await FakeAnthropic.start();
  provider = new AnthropicProvider({ apiKey: 'test-key', baseURL: fake.url, maxRetries: 1, retry: { baseDelayMs: 10, maxDelayMs: 20 } });
  dir = await mkdtemp(join(tmpdir(), 'claude-skills-'));
  await mkdir(join(dir, 'release-notes'));
  await writeFile(join(dir, 'release-notes', 'SKILL.md'), '---\nname: release-notes\ndescription: Writes release notes from a list of changes.\ncategory: docs\n---\nGroup the changes by kind. Be brief.\n');
});
afterAll(async () => {
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

describe('skills on Claude (fake Messages API)', () => {
  it('a prompt skill sends its body as a cached system block and returns the model answer', async () => {
    const { skills } = await loadPromptSkills(dir, () => provider);
    fake.enqueue(reply.toolUse({ text: '## Fixes\n- the parser' }));
    const used: { model: string; inputTokens: number; costUsd: number }[] = [];
    const out = await skills[0]!.run({ task: 'Write the notes', context: { changes: ['fix parser'] } }, { ...ctx, recordUsage: (model, u) => used.push({ model, ...u }) });
    expect(out).toMatchObject({ text: '## Fixes\n- the parser', offline: false });
    expect(used).toEqual([expect.objectContaining({ model: provider.model, inputTokens: expect.any(Number) as number })]);
    expect(used[0]!.inputTokens).toBeGreaterThan(0);
    expect(provider.ledger.get('task-1')?.calls).toBeGreaterThanOrEqual(1); // accounted to the invocation's task
    const req = fake.requests.at(-1)!.body as { system: { text: string; cache_control?: unknown }[]; messages: { content: unknown }[] };
    const cached = req.system.find((b) => b.cache_control !== undefined);
    expect(cached?.text).toContain('Group the changes by kind.');
    expect(JSON.stringify(req.messages)).toContain('fix parser');
  });

  it('text.classify takes the label from a tool call validated against the labels', async () => {
    const classify = textLlmSkills(() => provider).find((s) => s.name === 'text.classify')!;
    fake.enqueue(reply.toolUse({ label: 'nope', confidence: 0.9, rationale: 'x' }), reply.toolUse({ label: 'bug', confidence: 0.8, rationale: 'a crash' }));
    const out = await classify.run({ text: 'it crashes', labels: [{ id: 'bug' }, { id: 'billing' }] }, ctx);
    expect(out).toMatchObject({ label: 'bug', confidence: 0.8, offline: false });
  });

  it('a model that stays overloaded (529) fails the invocation with a clear, retryable llm_overloaded error', async () => {
    const summarise = textLlmSkills(() => provider).find((s) => s.name === 'text.summarise')!;
    fake.enqueue(reply.overloaded(), reply.overloaded());
    const err = await summarise.run({ text: 'Something long enough to summarise.', maxWords: 10 }, ctx).catch((e: unknown) => e);
    const info = errorOf(err);
    expect(info).toMatchObject({ code: 'llm_overloaded', retryable: true });
    expect(info.message).toMatch(/529/);
  });
});
