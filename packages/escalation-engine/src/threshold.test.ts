import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EscalationEngine } from './engine.js';
import { Prng } from './prng.js';
import { BudgetThreshold, type CalibrationRecord, learnThenTest } from './threshold.js';

describe('budget mode', () => {
  it('keeps the escalation rate near the budget on random score streams', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.double({ min: 0.02, max: 0.2, noNaN: true }), fc.integer({ min: 0, max: 2 }), (seed, budget, shape) => {
        const r = new Prng(seed);
        const b = new BudgetThreshold(BudgetThreshold.initial(budget));
        let escalated = 0;
        const n = 4000;
        for (let i = 0; i < n; i++) {
          // Uniform, skewed towards 1, and a drifting distribution.
          const u = r.next();
          const s = shape === 0 ? u : shape === 1 ? 1 - u ** 4 : Math.min(1, u * 0.5 + (i / n) * 0.5);
          const e = b.escalates(s);
          if (e) escalated++;
          b.observe(s, e, budget, 0.01);
        }
        expect(Math.abs(escalated / n - budget)).toBeLessThan(0.02);
      }),
      { numRuns: 40 },
    );
  }, 60_000);

  it('the engine in budget mode escalates about b of decisions without any label', () => {
    const engine = new EscalationEngine({ seed: 3, policy: { mode: 'budget', budget: 0.05 } });
    const r = new Prng(9);
    let escalated = 0;
    for (let i = 0; i < 3000; i++) {
      const v = engine.decide({ id: `d${i}`, tenantId: 't', type: `type${i % 4}`, options: [{ id: 'a', label: 'A' }, { id: 'b', label: 'B' }], proposal: 'a', confidence: r.next(), context: { risk: 'low' }, at: i * 1000 });
      if (v.outcome === 'escalate') escalated++;
    }
    expect(Math.abs(escalated / 3000 - 0.05)).toBeLessThan(0.015);
  }, 60_000);
});

describe('risk mode (Learn-then-Test)', () => {
  // Scores uniform on (0,1); P(error | s) = c·(1 − s)^k, so the true risk above λ is c(1 − λ)^k / (k + 1).
  const trueRisk = (lambda: number, c: number, k: number): number => (c * (1 - lambda) ** k) / (k + 1);

  it('keeps the autonomous error ≤ α in at least 1 − δ of repeated trials', () => {
    let everCertified = 0;
    fc.assert(
      fc.property(fc.double({ min: 0.05, max: 0.6, noNaN: true }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 1e6 }), (c, k, seed) => {
        const alpha = 0.02;
        const delta = 0.05;
        const trials = 150;
        let violations = 0;
        let certified = 0;
        const r = new Prng(seed);
        for (let t = 0; t < trials; t++) {
          const records: CalibrationRecord[] = [];
          for (let i = 0; i < 800; i++) {
            const s = r.next();
            records.push({ seq: i, score: s, correct: r.next() >= c * (1 - s) ** k });
          }
          const lambda = learnThenTest(records, alpha, delta);
          if (lambda === undefined) continue;
          certified++;
          if (trueRisk(lambda, c, k) > alpha) violations++;
        }
        // δ = 5% plus binomial slack for 150 trials.
        expect(violations / trials).toBeLessThanOrEqual(delta + 0.05);
        everCertified += certified;
      }),
      { numRuns: 12 },
    );
    // Not vacuous: thresholds were certified in many trials.
    expect(everCertified).toBeGreaterThan(100);
  }, 60_000);

  it('certifies nothing before 149 zero-error labels (α = 2%, δ = 5%)', () => {
    const records = Array.from({ length: 148 }, (_, i) => ({ seq: i, score: 0.99, correct: true }));
    expect(learnThenTest(records, 0.02, 0.05)).toBeUndefined();
    records.push({ seq: 148, score: 0.99, correct: true });
    expect(learnThenTest(records, 0.02, 0.05)).toBe(0.99);
  }, 60_000);

  it('an error near the top of the scores does not stop certification: the next rung tolerates it', () => {
    // 600 decisions, one error just after the first rung (149): a fine strict → loose grid would stop right there.
    const records = Array.from({ length: 600 }, (_, i) => ({ seq: i, score: 1 - i / 1000, correct: i !== 160 }));
    const lambda = learnThenTest(records, 0.02, 0.05, 0);
    expect(lambda).toBeDefined();
    expect(lambda).toBeCloseTo(1 - 599 / 1000, 10);
    // Fully error-free top, then a bad tail: the certificate stops before the tail.
    const tail = Array.from({ length: 600 }, (_, i) => ({ seq: i, score: 1 - i / 1000, correct: i < 400 || i % 3 !== 0 }));
    const cut = learnThenTest(tail, 0.02, 0.05, 0) ?? 1;
    const accepted = tail.filter((r) => r.score >= cut);
    expect(accepted.length).toBeGreaterThanOrEqual(149);
    expect(accepted.filter((r) => !r.correct).length / accepted.length).toBeLessThanOrEqual(0.02);
  }, 60_000);
});

describe('risk mode with most scores near 1 (the ladder from the confident count is used)', () => {
  // Scores s = 1 − 0.05·v with v uniform, so ~40% of records score ≥ 1 − α and the second start is used; every record
  // errs with probability ε + c·v^k (ε: the person's own noise, at the very top too). True risk above λ with
  // v_λ = (1 − λ)/0.05 is ε + c·v_λ^k / (k + 1).
  const trueRisk = (lambda: number, eps: number, c: number, k: number): number => eps + (c * ((1 - lambda) / 0.05) ** k) / (k + 1);

  it('keeps the autonomous error ≤ α in at least 1 − δ of repeated trials', () => {
    let everCertified = 0;
    fc.assert(
      fc.property(fc.double({ min: 0, max: 0.015, noNaN: true }), fc.double({ min: 0.02, max: 0.3, noNaN: true }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 1e6 }), (eps, c, k, seed) => {
        const alpha = 0.02;
        const delta = 0.05;
        const trials = 150;
        let violations = 0;
        const r = new Prng(seed);
        for (let t = 0; t < trials; t++) {
          const records: CalibrationRecord[] = [];
          for (let i = 0; i < 800; i++) {
            const v = r.next();
            records.push({ seq: i, score: 1 - 0.05 * v, correct: r.next() >= eps + c * v ** k });
          }
          const lambda = learnThenTest(records, alpha, delta);
          if (lambda === undefined) continue;
          everCertified++;
          if (trueRisk(lambda, eps, c, k) > alpha) violations++;
        }
        expect(violations / trials).toBeLessThanOrEqual(delta + 0.05);
      }),
      { numRuns: 12 },
    );
    expect(everCertified).toBeGreaterThan(100);
  }, 60_000);

  it('one noisy error at the very top does not block certification', () => {
    // 800 records, all scores ≥ 0.98 for the top 500, one error at rank 10 and otherwise clean: the strict ladder dies
    // at its first rung, the ladder from the confident count still certifies most of the sample.
    const records = Array.from({ length: 800 }, (_, i) => ({ seq: i, score: 1 - i / 25_000, correct: i !== 9 }));
    const lambda = learnThenTest(records, 0.02, 0.05);
    expect(lambda).toBeDefined();
    expect(records.filter((r) => r.score >= (lambda ?? 1)).length).toBeGreaterThan(700);
  }, 60_000);
});
