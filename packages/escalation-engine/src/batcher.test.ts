import { describe, expect, it } from 'vitest';
import { Batcher, BatcherState, type BatchItemInput } from './batcher.js';

const item = (id: string, at: number, extra: Partial<BatchItemInput> = {}): BatchItemInput => ({ decisionId: id, tenantId: 't', recipient: 'ann', enqueuedAt: at, ...extra });

describe('Batcher', () => {
  it('sends a batch when it holds batchSize items', () => {
    const b = new Batcher({ batchSize: 3, batchTimeoutMs: 300_000 });
    expect(b.add(item('a', 0), 0)).toEqual([]);
    expect(b.add(item('b', 10), 10)).toEqual([]);
    const out = b.add(item('c', 20), 20);
    expect(out).toHaveLength(1);
    expect(out[0]?.reason).toBe('size');
    expect(out[0]?.items.map((i) => i.decisionId)).toEqual(['a', 'b', 'c']);
    expect(b.pending()).toBe(0);
  });

  it('sends when the oldest item has waited batchTimeoutMs', () => {
    const b = new Batcher({ batchSize: 5, batchTimeoutMs: 300_000 });
    b.add(item('a', 0), 0);
    b.add(item('b', 100_000), 100_000);
    expect(b.due(299_999)).toEqual([]);
    expect(b.nextDueAt()).toBe(300_000);
    const out = b.due(300_000);
    expect(out).toHaveLength(1);
    expect(out[0]?.reason).toBe('timeout');
    expect(out[0]?.items).toHaveLength(2);
  });

  it('sends a critical item at once with whatever is waiting, most urgent first then oldest', () => {
    const b = new Batcher();
    b.add(item('low-old', 0, { urgency: 'low' }), 0);
    b.add(item('normal', 5, { urgency: 'normal' }), 5);
    b.add(item('high', 10, { urgency: 'high' }), 10);
    const out = b.add(item('crit', 20, { critical: true, urgency: 'critical' }), 20);
    expect(out).toHaveLength(1);
    expect(out[0]?.reason).toBe('critical');
    expect(out[0]?.items.map((i) => i.decisionId)).toEqual(['crit', 'high', 'normal', 'low-old']);
  });

  it('groups by (tenant, recipient) and ignores duplicate adds', () => {
    const b = new Batcher({ batchSize: 2 });
    b.add(item('a', 0), 0);
    b.add(item('a', 0), 1);
    expect(b.add(item('x', 0, { recipient: 'bob' }), 2)).toEqual([]);
    expect(b.add(item('y', 0, { tenantId: 'other' }), 3)).toEqual([]);
    const out = b.add(item('b', 4), 4);
    expect(out[0]?.items.map((i) => i.decisionId)).toEqual(['a', 'b']);
  });

  it('serialises its state and resumes from it', () => {
    const b = new Batcher({ batchSize: 5, batchTimeoutMs: 1000 });
    b.add(item('a', 0), 0);
    b.add(item('b', 500, { urgency: 'high' }), 500);
    const restored = new Batcher({ batchSize: 5, batchTimeoutMs: 1000 }, BatcherState.parse(JSON.parse(JSON.stringify(b.snapshot()))));
    expect(restored.pending()).toBe(2);
    expect(restored.due(1000)[0]?.items.map((i) => i.decisionId)).toEqual(['b', 'a']);
  });
});
