import { describe, expect, it } from 'vitest';
import { EscalationEngine } from './engine.js';
import { generateDecisions } from './eval/generate.js';
import { SimPolicy, SimulatedProfessional } from './eval/policy.js';
import type { DecisionInput } from './schemas.js';
import { Verdict } from './schemas.js';

const policy = SimPolicy.parse({
  noise: 0.01,
  rules: [
    { type: 'invoice.pay', when: { amount: { gte: 10000 } }, choice: 'hold' },
    { type: 'deploy.approve', when: { env: 'prod', risk: 'high' }, choice: 'hold' },
  ],
  defaults: { 'deploy.approve': 'approve', 'invoice.pay': 'pay' },
});

function drive(engine: EscalationEngine, decisions: DecisionInput[], offset: number, sim: SimulatedProfessional): Verdict[] {
  return decisions.map((d, i) => {
    const v = engine.decide(d);
    if (v.outcome === 'escalate') engine.learn(d, v, sim.answer(d, offset + i), 'escalation');
    else if (v.audit) engine.learn(d, v, sim.answer(d, offset + i), 'audit');
    return v;
  }, 60_000);
}

describe('EscalationEngine', () => {
  const decisions = [...generateDecisions(policy, { n: 2500, seed: 5, agentAccuracy: 0.87 })];
  /** A decision no hard rule catches: reversible, not critical. */
  const ordinary = (): DecisionInput => {
    const d = decisions.find((x) => x.context.reversible !== false && x.context.critical !== true && x.context.urgency !== 'critical');
    if (!d) throw new Error('no ordinary decision in the stream');
    return d;
  };
  const sim = new SimulatedProfessional(policy, 5);

  it('produces valid verdicts with reasons, deterministically for a seed', () => {
    const a = drive(new EscalationEngine({ seed: 7 }), decisions.slice(0, 300), 0, sim);
    const b = drive(new EscalationEngine({ seed: 7 }), decisions.slice(0, 300), 0, sim);
    expect(a).toEqual(b);
    for (const v of a) {
      expect(Verdict.safeParse(v).success).toBe(true);
      expect(v.reasons.length).toBeGreaterThan(0);
      if (v.outcome !== 'escalate') expect(v.choice).toBeDefined();
    }
  }, 60_000);

  it('snapshot → JSON → restore gives identical verdicts on the next 1,000 decisions', () => {
    const engine = new EscalationEngine({ seed: 11 });
    drive(engine, decisions.slice(0, 1500), 0, sim);
    const json = JSON.stringify(engine.snapshot());
    const restored = EscalationEngine.restore({ seed: 11 }, JSON.parse(json));
    const next = decisions.slice(1500, 2500);
    const original = drive(engine, next, 1500, sim);
    const again = drive(restored, next, 1500, sim);
    expect(again).toEqual(original);
    expect(restored.metrics()).toEqual(engine.metrics());
    expect(JSON.parse(JSON.stringify(restored.snapshot()))).toEqual(JSON.parse(JSON.stringify(engine.snapshot())));
  }, 60_000);

  it('reports metrics with an interval and audit weights of 1/p', () => {
    const engine = new EscalationEngine({ seed: 3, auditRate: 0.05 });
    const verdicts = drive(engine, decisions, 0, sim);
    const m = engine.metrics();
    expect(m.decisions).toBe(2500);
    expect(m.autonomyRate + m.escalationRate).toBeCloseTo(1, 10);
    expect(m.estimatedAutonomousError.lower).toBeLessThanOrEqual(m.estimatedAutonomousError.upper);
    const audited = verdicts.filter((v) => v.audit);
    expect(audited.length).toBeGreaterThan(0);
    // Adaptive sampling: 1/p with p the base audit rate, or the boosted rate while a type's calibration sample is small.
    for (const v of audited) expect([20, 1 / 0.12].some((w) => Math.abs((v.auditWeight ?? 0) - w) < 1e-9)).toBe(true);
    expect(m.autonomyRate).toBeGreaterThan(0);
    const fixed = new EscalationEngine({ seed: 3, auditRate: 0.05, calibration: { boostedRate: 0 } });
    for (const v of drive(fixed, decisions, 0, sim).filter((x) => x.audit)) expect(v.auditWeight).toBeCloseTo(20, 10);
  }, 60_000);

  it('refuses to restore a snapshot of an older version with a clear error', () => {
    const engine = new EscalationEngine({ seed: 1 });
    drive(engine, decisions.slice(0, 50), 0, sim);
    const old: unknown = { ...(JSON.parse(JSON.stringify(engine.snapshot())) as object), version: 1 };
    expect(() => EscalationEngine.restore({ seed: 1 }, old)).toThrow(/version 1/);
  }, 60_000);

  it('escalates a type before it has earned autonomy', () => {
    const engine = new EscalationEngine();
    const v = engine.decide(ordinary());
    expect(v.outcome).toBe('escalate');
    expect(v.basis).toBe('not_earned');
    expect(v.threshold).toBe(1);
  }, 60_000);

  it('names what settled each verdict: hard rule, no choice, not yet earned, threshold, budget', () => {
    const base = { ...ordinary(), tenantId: 'basis' };
    const ask = (engine: EscalationEngine, over: Partial<DecisionInput>, id: string) => engine.decide({ ...base, ...over, id });
    const engine = new EscalationEngine({ seed: 2 });
    expect(ask(engine, { context: { ...base.context, reversible: false } }, 'irreversible')).toMatchObject({ outcome: 'escalate', basis: 'rule' });
    const { proposal: _unused, ...noProposal } = base;
    expect(engine.decide({ ...noProposal, id: 'no-proposal' })).toMatchObject({ outcome: 'escalate', basis: 'no_choice' });
    expect(ask(engine, {}, 'early')).toMatchObject({ outcome: 'escalate', basis: 'not_earned' });
    engine.setRules('basis', { version: 1, rules: [{ id: 'trust', when: { type: base.type }, action: 'never_escalate' }] });
    expect(ask(engine, {}, 'trusted')).toMatchObject({ outcome: 'autonomous', basis: 'rule' });

    const budget = new EscalationEngine({ seed: 2, policy: { mode: 'budget' } });
    expect(ask(budget, {}, 'budgeted')).toMatchObject({ basis: 'budget' });

    // Once the type has earned autonomy, the score against the certified threshold settles it either way (unless an
    // active preference acts, or a hard rule escalates).
    const earned = new EscalationEngine({ seed: 7 });
    const verdicts = drive(earned, decisions, 0, sim).slice(1500);
    expect(verdicts.filter((v) => v.outcome === 'preference').every((v) => v.basis === 'preference')).toBe(true);
    const later = verdicts.filter((v) => v.threshold < 1 && v.outcome !== 'preference' && !v.reasons.some((r) => /irreversible|critical/.test(r)));
    expect(later.length).toBeGreaterThan(0);
    for (const v of later) expect(v.basis).toBe('threshold');
    expect(new Set(later.map((v) => v.outcome))).toEqual(new Set(['autonomous', 'escalate']));
  }, 60_000);
});
