import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EscalationEngine, type EngineSnapshot } from './engine.js';
import type { DecisionInput, Verdict } from './schemas.js';

// A drift reset of one type must take that type's pre-drift labels out of every calibration sample, the tenant's
// pooled one included, so the other types' pooled certificate is judged on evidence that still describes the truth.

const TENANT = 't';

function decision(type: string, id: string): DecisionInput {
  return { id, tenantId: TENANT, type, options: [{ id: 'go', label: 'Go' }, { id: 'stop', label: 'Stop' }], proposal: 'go', context: {}, at: 0 };
}

interface Rec {
  seq: number;
  score: number;
  correct: boolean;
  stratum: 'pref' | 'agent';
}

/** An engine whose types hold exactly the given calibration records (built through snapshot/restore). */
function engineWith(samples: Record<string, Rec[]>): EscalationEngine {
  const base = new EscalationEngine({ seed: 1 });
  for (const type of Object.keys(samples)) base.decide(decision(type, `init-${type}`));
  const snap = JSON.parse(JSON.stringify(base.snapshot())) as EngineSnapshot;
  let maxSeq = 0;
  for (const t of snap.tenants) {
    for (const ts of t.types) {
      ts.calibration = (samples[ts.type] ?? []).map((r) => ({ ...r }));
      for (const r of ts.calibration) maxSeq = Math.max(maxSeq, r.seq);
    }
  }
  snap.labelSeq = maxSeq;
  return EscalationEngine.restore({ seed: 1 }, snap);
}

/** Labels `count` audited, high-score decisions of `type` as wrong: enough to raise the type's drift alarm. */
function driftType(engine: EscalationEngine, type: string, count: number): void {
  for (let i = 0; i < count; i++) {
    const d = decision(type, `drift-${type}-${i}`);
    const v: Verdict = { decisionId: d.id, outcome: 'autonomous', basis: 'threshold', choice: 'go', proposal: 'go', score: 0.999, threshold: 0.9, policyVersion: 'test', reasons: ['test'], audit: true, auditWeight: 1 / 0.03 };
    engine.learn(d, v, 'stop', 'audit');
  }
}

/** `n` records with distinct descending scores from `top`, seqs from `firstSeq`, wrong where `wrong(i)`. */
function records(n: number, firstSeq: number, top: number, wrong: (i: number) => boolean = () => false): Rec[] {
  return Array.from({ length: n }, (_, i) => ({ seq: firstSeq + i, score: top - i * 1e-5, correct: !wrong(i), stratum: 'agent' as const }));
}

describe('drift reset and the pooled certificate', () => {
  it("after type A's drift reset, type B's pooled certificate is no longer blocked by A's pre-drift errors", () => {
    // A: 200 labels with an error every 20th among the top scores; B: 100 clean labels (too few for its own
    // certificate); C: 200 clean labels. Pooled over all three, A's errors block certification.
    const engine = engineWith({
      A: records(200, 1, 0.9995, (i) => i % 20 === 5),
      B: records(100, 201, 0.99955),
      C: records(200, 301, 0.99953),
    });
    expect(engine.thresholdFor(TENANT, 'B').source).toBe('none');

    driftType(engine, 'A', 4);
    expect(engine.driftEvents().map((e) => e.type)).toContain('A');
    const b = engine.thresholdFor(TENANT, 'B');
    expect(b.source).toBe('pooled');
    expect(b.lambda).toBeLessThan(1);
  });

  it("after the reset, B's threshold is the one it would have if A's pre-drift labels had never existed", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ score: fc.double({ min: 0.5, max: 1, noNaN: true }), correct: fc.boolean() }), { minLength: 0, maxLength: 300 }),
        fc.integer({ min: 30, max: 140 }),
        fc.integer({ min: 0, max: 400 }),
        (aRecs, nB, nC) => {
          const a: Rec[] = aRecs.map((r, i) => ({ seq: i + 1, score: r.score, correct: r.correct, stratum: 'agent' }));
          const b = records(nB, 1001, 0.9999);
          const c = records(nC, 2001, 0.99985);
          const withA = engineWith({ A: a, B: b, C: c });
          driftType(withA, 'A', 4);
          const withoutA = engineWith({ A: [], B: b, C: c });
          expect(withA.driftEvents().some((e) => e.type === 'A')).toBe(true);
          expect(withA.thresholdFor(TENANT, 'B')).toEqual(withoutA.thresholdFor(TENANT, 'B'));
        },
      ),
      { numRuns: 30, seed: 7 },
    );
  }, 60_000);
});
