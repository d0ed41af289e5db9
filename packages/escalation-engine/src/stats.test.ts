import { describe, expect, it } from 'vitest';
import { binomialCdf, chiSquareSurvival, clopperPearson, cpLower, cpUpper, incompleteBeta, minZeroErrorSample } from './stats.js';

describe('Clopper–Pearson', () => {
  it('matches known zero-error bounds (rule of three, exact)', () => {
    expect(cpUpper(0, 149, 0.95)).toBeCloseTo(0.0199, 4);
    expect(cpUpper(0, 59, 0.95)).toBeCloseTo(0.0495, 4);
    expect(minZeroErrorSample(0.02, 0.05)).toBe(149);
    expect(minZeroErrorSample(0.05, 0.05)).toBe(59);
  });

  it('matches published two-sided intervals', () => {
    // R: binom.test(5, 100)$conf.int → 0.01643 0.11284
    const ci = clopperPearson(5, 100, 0.95);
    expect(ci.lower).toBeCloseTo(0.01643, 4);
    expect(ci.upper).toBeCloseTo(0.11284, 4);
    // R: binom.test(0, 10)$conf.int → 0 0.30850
    expect(clopperPearson(0, 10).upper).toBeCloseTo(0.3085, 4);
    expect(clopperPearson(10, 10).lower).toBeCloseTo(0.6915, 4);
  });

  it('lower and upper bounds are consistent with the binomial tail', () => {
    const u = cpUpper(3, 200, 0.95);
    expect(binomialCdf(3, 200, u)).toBeCloseTo(0.05, 6);
    const l = cpLower(197, 200, 0.95);
    expect(1 - binomialCdf(196, 200, l)).toBeCloseTo(0.05, 6);
  });

  it('incomplete beta and chi-square agree with closed forms', () => {
    expect(incompleteBeta(0.3, 1, 1)).toBeCloseTo(0.3, 12);
    expect(incompleteBeta(0.5, 2, 2)).toBeCloseTo(0.5, 12);
    expect(chiSquareSurvival(3.841458820694124, 1)).toBeCloseTo(0.05, 6);
    expect(chiSquareSurvival(5.991464547107979, 2)).toBeCloseTo(0.05, 6);
  });
});
