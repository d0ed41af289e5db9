import { describe, expect, it } from 'vitest';
import { EscalationEngine } from './engine.js';
import { evaluateRules, matchType } from './rules.js';
import type { DecisionInput, RuleSet } from './schemas.js';

const base: DecisionInput = { id: 'd1', tenantId: 't', type: 'deploy.prod', options: [{ id: 'go', label: 'Go' }, { id: 'stop', label: 'Stop' }], proposal: 'go', confidence: 0.99, context: { env: 'prod' }, at: 0 };

describe('hard rules', () => {
  it('matches exact types and globs', () => {
    expect(matchType('deploy.*', 'deploy.prod')).toBe(true);
    expect(matchType('deploy.*', 'invoice.pay')).toBe(false);
    expect(matchType('deploy.prod', 'deploy.prod')).toBe(true);
  });

  it('irreversible and critical decisions escalate by default', () => {
    expect(evaluateRules(undefined, { ...base, context: { reversible: false } }).kind).toBe('escalate');
    expect(evaluateRules(undefined, { ...base, context: { critical: true } }).kind).toBe('escalate');
    expect(evaluateRules(undefined, { ...base, context: { urgency: 'critical' } }).kind).toBe('escalate');
    expect(evaluateRules(undefined, base).kind).toBe('none');
  });

  it('a matching never_escalate rule allows an irreversible decision; always_escalate beats it', () => {
    const rs: RuleSet = { version: 1, rules: [{ id: 'ok-prod', when: { type: 'deploy.*', context: { env: 'prod' } }, action: 'never_escalate' }] };
    const irreversible = { ...base, context: { env: 'prod', reversible: false } };
    expect(evaluateRules(rs, irreversible).kind).toBe('never_escalate');
    const both: RuleSet = { version: 2, rules: [...rs.rules, { id: 'freeze', when: { type: 'deploy.prod' }, action: 'always_escalate' }] };
    expect(evaluateRules(both, irreversible)).toMatchObject({ kind: 'escalate', ruleId: 'freeze' });
    expect(evaluateRules({ version: 1, rules: [], allowIrreversible: true }, irreversible).kind).toBe('none');
  });

  it('rules win over everything in the engine and are versioned', () => {
    const engine = new EscalationEngine({ rules: { t: { version: 1, rules: [{ id: 'r1', when: { type: 'deploy.*' }, action: 'always_escalate' }] } } });
    const v = engine.decide(base);
    expect(v.outcome).toBe('escalate');
    expect(v.reasons[0]).toContain('r1');
    expect(v.policyVersion).toContain('rules@1');
    expect(engine.decide({ ...base, id: 'd2', context: { reversible: false } }).reasons[0]).toContain('rule r1');
    engine.setRules('t', { version: 2, rules: [{ id: 'r2', when: { type: 'deploy.*' }, action: 'never_escalate' }] });
    const allowed = engine.decide({ ...base, id: 'd3', context: { reversible: false } });
    expect(allowed.outcome).toBe('autonomous');
    expect(allowed.choice).toBe('go');
    expect(() => engine.setRules('t', { version: 2, rules: [] })).toThrow();
  });
});
