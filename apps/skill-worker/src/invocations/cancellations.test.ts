import { describe, expect, it } from 'vitest';
import { CancelledSet } from './cancellations.js';

describe('CancelledSet', () => {
  it('a cancel naming an attempt stops that attempt and earlier ones, not a retry; one without stops all', () => {
    const set = new CancelledSet(1_000, 10, () => 0);
    set.add('a', 'attempt 1 timed out', 1);
    expect(set.get('a', 1)).toBe('attempt 1 timed out');
    expect(set.get('a', 2)).toBeUndefined();
    expect(set.get('a')).toBe('attempt 1 timed out');
    set.add('a', 'attempt 2 timed out', 2);
    expect(set.get('a', 2)).toBe('attempt 2 timed out');
    expect(set.get('a', 3)).toBeUndefined();
    set.add('a', 'run cancelled');
    expect(set.get('a', 9)).toBe('run cancelled');
    set.add('a', 'a late attempt-1 cancel', 1); // never narrows a cancel of every attempt
    expect(set.get('a', 9)).toBe('a late attempt-1 cancel');
  });

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
