import { OfflineProvider } from '@steward/llm';
import { describe, expect, it } from 'vitest';
import { keywordClassify, leadSummary, lineExtract, textLlmSkills } from './text-llm.js';

const ctx = { idempotencyKey: 'k', tenantId: 't1', taskId: 'task-1', attempt: 1, signal: new AbortController().signal };
const [summarise, classify, extract] = textLlmSkills(() => new OfflineProvider());

describe('text skills offline', () => {
  it('summarise keeps the lead sentences within the word budget and says it is offline', async () => {
    expect(leadSummary('The build failed. The cache was cold. Nothing else changed.', 8)).toBe('The build failed. The cache was cold.');
    expect(await summarise!.run({ text: 'One two three. Four five six.', maxWords: 3 }, ctx)).toEqual({ summary: 'One two three.', offline: true, method: 'lead sentences' });
  });

  it('classify picks the label whose keywords occur most', async () => {
    expect(keywordClassify('The invoice total is due; pay the invoice', [{ id: 'bug' }, { id: 'billing', keywords: ['invoice', 'pay'] }])).toEqual({ label: 'billing', score: 1 });
    const r = await classify!.run({ text: 'segfault in the parser', labels: [{ id: 'billing' }, { id: 'bug', keywords: ['segfault', 'crash'] }] }, ctx);
    expect(r).toMatchObject({ label: 'bug', offline: true });
  });

  it('extract reads field: value lines and leaves missing fields null', async () => {
    expect(lineExtract('Customer: ACME\n- Amount = 1200 EUR\nnote: x', ['customer', 'amount', 'due date'])).toEqual({ customer: 'ACME', amount: '1200 EUR', 'due date': null });
    expect(await extract!.run({ text: 'Ticket-ID: 42', fields: ['ticket id'] }, ctx)).toMatchObject({ fields: { 'ticket id': '42' } });
  });
});
