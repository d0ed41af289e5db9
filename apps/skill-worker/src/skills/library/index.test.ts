import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { librarySkills } from './index.js';

describe('librarySkills', () => {
  it('has at least 30 skills with unique, well-formed names', () => {
    expect(librarySkills.length).toBeGreaterThanOrEqual(30);
    const names = librarySkills.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    for (const s of librarySkills) {
      expect(s.name).toMatch(/^[a-z]+(\.[a-z]+)+$/);
      expect(s.name.startsWith(`${s.category}.`)).toBe(true);
      expect(s.description.length).toBeGreaterThan(20);
      expect(s.timeoutMs).toBeGreaterThan(0);
      expect(['none', 'reversible', 'irreversible']).toContain(s.sideEffects);
    }
  });

  it('covers the dev, data, text and ops categories', () => {
    expect(new Set(librarySkills.map((s) => s.category))).toEqual(new Set(['dev', 'data', 'text', 'ops']));
  });

  it.each(librarySkills.map((s) => [s.name, s] as const))('%s publishes its schemas as JSON Schema', (_name, s) => {
    expect(() => z.toJSONSchema(s.input, { unrepresentable: 'any', io: 'input' })).not.toThrow();
    expect(() => z.toJSONSchema(s.output, { unrepresentable: 'any' })).not.toThrow();
    expect(() => z.toJSONSchema(s.output, { unrepresentable: 'any', io: 'input' })).not.toThrow();
  });
});
