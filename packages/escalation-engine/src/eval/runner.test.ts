import { describe, expect, it } from 'vitest';
import { generateDecisions } from './generate.js';
import { SimPolicy } from './policy.js';
import { formatReport, runEvaluation } from './runner.js';

describe('evaluation runner', () => {
  it('produces a sane report on a small generated stream', () => {
    const policy = SimPolicy.parse({
      name: 'small',
      noise: 0.01,
      rules: [{ type: 'pr.merge', when: { ci: 'red' }, choice: 'request_changes' }],
      defaults: { 'pr.merge': 'merge', 'deploy.approve': 'approve' },
      drift: { after: 500, then: { rules: [], defaults: { 'pr.merge': 'wait' } } },
    });
    const decisions = [...generateDecisions(policy, { n: 800, seed: 2, agentAccuracy: 0.87 })];
    const lines: string[] = [];
    const report = runEvaluation(decisions, policy, { seed: 2, progressEvery: 200 }, (l) => lines.push(l));
    expect(lines).toHaveLength(4);
    expect(report.decisions).toBe(800);
    expect(report.learningCurve).toHaveLength(8);
    expect(report.afterWarmup.from).toBe(500);
    expect(report.afterWarmup.decisions).toBe(300);
    for (const s of [report.overall, report.afterWarmup]) {
      expect(s.autonomy).toBeGreaterThanOrEqual(0);
      expect(s.autonomy).toBeLessThanOrEqual(1);
      expect(s.autonomousError.lower).toBeLessThanOrEqual(s.autonomousError.upper);
      expect(s.humanMinutes).toBeGreaterThan(0);
      expect(s.baselineMinutes).toBeGreaterThanOrEqual(s.humanMinutes);
      expect(s.timeSaved).toBeLessThanOrEqual(1);
      // Every escalation has one cause, and they add up.
      expect(Object.values(s.escalatedBy).reduce((a, b) => a + b, 0)).toBe(s.escalated);
    }
    expect(report.escalationBatches).toBeGreaterThan(0);
    expect(report.drift?.policyDriftAt).toBe(500);
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
    const text = formatReport(report);
    expect(text).toContain('autonomy');
    expect(text).toContain('time saved');
    expect(text).toContain('learning curve');
    expect(text).toMatch(/escalated because +autonomy not yet earned \d+/);
  }, 60_000);
});
