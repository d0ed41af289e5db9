import { describe, expect, it } from 'vitest';
import { generateDecisions } from './generate.js';
import { SimPolicy } from './policy.js';
import { runEvaluation } from './runner.js';
import { defaultPolicyFiles, formatSweep, sweep } from './sweep.js';

const policy = (name: string, noise: number) =>
  SimPolicy.parse({ name, noise, rules: [{ type: 'pr.merge', when: { ci: 'red' }, choice: 'request_changes' }], defaults: { 'pr.merge': 'merge', 'deploy.approve': 'approve' } });
const opts = { seeds: [1, 2], n: 700, streamSeed: 3, agentAccuracy: 0.87, alpha: 0.02 };

describe('evaluation sweep', () => {
  it('runs every policy with every review seed, each run the same as the runner alone, and summarises them', () => {
    const policies = [policy('quiet', 0.005), policy('noisy', 0.03)];
    const seen: string[] = [];
    const s = sweep(policies, opts, (r) => seen.push(`${r.policy}/${r.seed}`));
    expect(seen).toEqual(['quiet/1', 'quiet/2', 'noisy/1', 'noisy/2']);

    const alone = runEvaluation([...generateDecisions(policies[1]!, { n: 700, seed: 3, agentAccuracy: 0.87 })], policies[1]!, { seed: 2, alpha: 0.02 });
    expect(s.runs[3]).toEqual({ policy: 'noisy', seed: 2, autonomy: alone.afterWarmup.autonomy, autonomousError: alone.afterWarmup.autonomousError.rate, timeSaved: alone.afterWarmup.timeSavedVsUnbatched, timeSavedOverall: alone.overall.timeSavedVsUnbatched, escalatedBy: alone.afterWarmup.escalatedBy });

    const noisy = s.runs.filter((r) => r.policy === 'noisy');
    expect(s.policies[1]).toEqual({ policy: 'noisy', meanAutonomy: (noisy[0]!.autonomy + noisy[1]!.autonomy) / 2, minAutonomy: Math.min(noisy[0]!.autonomy, noisy[1]!.autonomy), maxError: Math.max(noisy[0]!.autonomousError, noisy[1]!.autonomousError), meanTimeSaved: (noisy[0]!.timeSaved + noisy[1]!.timeSaved) / 2, meanEscalatedBy: expect.any(Object) as object });
    expect(s.meanAutonomy).toBeCloseTo(s.runs.reduce((a, r) => a + r.autonomy, 0) / 4, 12);
    expect(s.maxError).toBe(Math.max(...s.runs.map((r) => r.autonomousError)));
    expect(s.runsAboveAlpha).toBe(s.runs.filter((r) => r.autonomousError > 0.02).length);
    expect(formatSweep(s, 0.02)).toContain('all 4 runs: mean autonomy after 500');
  }, 60_000);

  it('applies engine settings to every run, and refuses settings the engine does not take', () => {
    const p = [policy('quiet', 0.005)];
    const base = sweep(p, { ...opts, seeds: [1] });
    // A hard rule that never escalates: nearly everything is autonomous (irreversible and critical decisions still ask).
    const never = { version: 1, rules: [{ id: 'never', when: {}, action: 'never_escalate' as const }] };
    const ruled = sweep(p, { ...opts, seeds: [1], engine: { rules: { 'tenant-demo': never } } });
    expect(base.runs[0]!.autonomy).toBeLessThan(0.9);
    expect(ruled.runs[0]!.autonomy).toBeGreaterThan(0.95);
    expect(() => sweep(p, { ...opts, engine: { calibration: { window: -1 } } })).toThrow(/window/);
  }, 60_000);

  it('finds the shipped scenarios and the ones written apart from them', () => {
    const names = defaultPolicyFiles().map((f) => f.replace(/.*scenarios\//, ''));
    expect(names).toEqual(expect.arrayContaining(['consistent.json', 'contextual.json', 'drifting.json', 'fresh/u1-teams.json']));
  });
});
