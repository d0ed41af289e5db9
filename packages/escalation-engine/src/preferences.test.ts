import { describe, expect, it } from 'vitest';
import { EscalationEngine } from './engine.js';
import { roundBetween } from './preferences.js';
import type { DecisionInput } from './schemas.js';

const decision = (i: number, context: Record<string, string> = { env: 'prod' }): DecisionInput => ({
  id: `d${i}`,
  tenantId: 't',
  type: 'invoice.pay',
  options: [{ id: 'pay', label: 'Pay' }, { id: 'hold', label: 'Hold' }],
  proposal: 'pay',
  confidence: 0.9,
  context,
  at: i * 1000,
});

describe('learned preferences', () => {
  it('promote only once the 95% lower bound of agreement clears 1 − α, then act and replace the proposal', () => {
    const engine = new EscalationEngine({ seed: 1 });
    let promotedAt: number | undefined;
    for (let i = 0; i < 400 && promotedAt === undefined; i++) {
      const d = decision(i);
      const v = engine.decide(d);
      // The agent always proposes pay; this person always holds: the preference must learn "hold".
      engine.learn(d, v, 'hold', v.outcome === 'escalate' ? 'escalation' : 'audit');
      const pref = engine.preferences('t').find((p) => p.choice === 'hold' && p.status !== 'demoted');
      if (pref?.status === 'active') promotedAt = i;
      if (pref && pref.status === 'candidate') expect(pref.lowerBound).toBeLessThan(0.98);
    }
    expect(promotedAt).toBeDefined();
    const active = engine.preferences('t').find((p) => p.status === 'active');
    expect(active).toBeDefined();
    expect(active?.support).toBeGreaterThanOrEqual(149);
    expect(active?.lowerBound).toBeGreaterThanOrEqual(0.98);
    const v = engine.decide(decision(1000));
    expect(v.outcome).toBe('preference');
    expect(v.choice).toBe('hold');
    expect(v.proposal).toBe('pay');
    expect(v.preferenceId).toBe(active?.id);
    expect(v.reasons.join(' ')).toContain('replaces the agent');
  }, 60_000);

  it('are revocable, and a revoked preference is not learned again', () => {
    const engine = new EscalationEngine({ seed: 1 });
    for (let i = 0; i < 60; i++) {
      const d = decision(i);
      engine.learn(d, engine.decide(d), 'hold', 'escalation');
    }
    const v = engine.decide(decision(100));
    expect(v.choice).toBe('hold');
    expect(v.preferenceId).toBeDefined();
    expect(engine.revokePreference(v.preferenceId ?? '')).toBe(true);
    expect(engine.preferences().find((p) => p.id === v.preferenceId)?.status).toBe('revoked');
    for (let i = 101; i < 130; i++) {
      const d = decision(i);
      const after = engine.decide(d);
      expect(after.preferenceId).not.toBe(v.preferenceId);
      engine.learn(d, after, 'hold', 'escalation');
    }
    expect(engine.decide(decision(200)).choice).toBe('pay');
  }, 60_000);

  it('depend on context and are demoted when answers start to disagree', () => {
    const engine = new EscalationEngine({ seed: 2 });
    for (let i = 0; i < 200; i++) {
      const env = i % 2 === 0 ? 'prod' : 'dev';
      const d = decision(i, { env });
      engine.learn(d, engine.decide(d), env === 'prod' ? 'hold' : 'pay', 'escalation');
    }
    expect(engine.decide(decision(300, { env: 'prod' })).choice).toBe('hold');
    expect(engine.decide(decision(301, { env: 'dev' })).choice).toBe('pay');
    const prod = engine.preferences().find((p) => p.condition === 'env=prod' && p.status === 'candidate');
    expect(prod?.choice).toBe('hold');
    // The person changes their mind about prod.
    for (let i = 400; i < 440; i++) {
      const d = decision(i, { env: 'prod' });
      engine.learn(d, engine.decide(d), 'pay', 'escalation');
    }
    const after = engine.preferences().find((p) => p.id === prod?.id);
    expect(after?.status).toBe('demoted');
    expect(after?.statusReason).toBeTruthy();
  }, 60_000);

  it('learn a numeric split point between observed values, rounded as a person would write it', () => {
    expect(roundBetween(9512, 10340)).toBe(10000);
    expect(roundBetween(2890.5, 3120)).toBe(3000);
    expect(roundBetween(7100, 7900)).toBe(7500);
    expect(roundBetween(0, 1)).toBe(1);
    const engine = new EscalationEngine({ seed: 4 });
    // The person holds invoices of 3,000 or more: 3,000 sits inside the 1-2-5 bucket [2000, 5000).
    for (let i = 0; i < 300; i++) {
      const amount = Math.round(100 * Math.exp(Math.log(50) + ((i * 7919) % 1000) / 1000 * Math.log(400))) / 100;
      const d = { ...decision(i), context: { amount } };
      engine.learn(d, engine.decide(d), amount >= 3000 ? 'hold' : 'pay', 'escalation');
    }
    const prefs = engine.preferences().filter((p) => p.status === 'candidate' || p.status === 'active');
    expect(prefs.map((p) => `${p.condition} → ${p.choice}`).sort()).toEqual(['amount<3000 → pay', 'amount≥3000 → hold']);
    expect(engine.decide({ ...decision(1000), context: { amount: 3500 } }).choice).toBe('hold');
    expect(engine.decide({ ...decision(1001), context: { amount: 2500 } }).choice).toBe('pay');
  }, 60_000);
});
