import { describe, expect, it } from 'vitest';
import { CancelledSet } from './cancellations.js';

describe('CancelledSet', () => {
  it('forgets an id once its TTL has passed', () => {
    let now = 1_000;
    const set = new CancelledSet(100, 10, () => now);
    set.add('a', 'why');
    now += 100;
    expect(set.get('a')).toBe('why');
    now += 1;
    expect(set.get('a')).toBeUndefined();
    expect(set.size).toBe(0);
  });

  it('keeps at most maxEntries, forgetting the oldest first, and drops expired ones as new ones come', () => {
    let now = 0;
    const set = new CancelledSet(1_000, 3, () => now);
    for (const k of ['a', 'b', 'c', 'd']) {
      set.add(k, k);
      now += 10;
    }
    expect(set.size).toBe(3);
    expect(set.get('a')).toBeUndefined();
    expect(set.get('d')).toBe('d');
    set.add('b', 'again'); // re-adding refreshes: b is now the newest
    set.add('e', 'e');
    expect(set.get('c')).toBeUndefined();
    expect(set.get('b')).toBe('again');
    now += 2_000;
    set.add('f', 'f');
    expect(set.size).toBe(1);
  });
});
