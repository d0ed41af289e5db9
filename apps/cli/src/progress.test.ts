import { describe, expect, it } from 'vitest';
import type { Run, Task } from './api/schemas.js';
import { bar, computeProgress, finalLines, progressLine, progressText } from './progress.js';

const task: Task = { taskId: 't1', status: 'running', kind: 'workflow', workflow: { name: 'acme.release', version: 1 }, input: {}, createdAt: '2026-12-02T12:00:00Z' };
const step = (stepPath: string, status: string, extra: Partial<Run['steps'][number]> = {}): Run['steps'][number] => ({ id: stepPath, stepPath, status, attempt: 1, updatedAt: '2026-12-02T12:00:00Z', ...extra });
const run = (id: string, steps: Run['steps'], parentRunId?: string, name = 'acme.release'): Run => ({
  id,
  taskId: 't1',
  workflow: { name, version: 1 },
  status: 'running',
  createdAt: '2026-12-02T12:00:00Z',
  updatedAt: '2026-12-02T12:00:00Z',
  steps,
  ...(parentRunId ? { parentRunId } : {}),
});

describe('progress', () => {
  const runs = [
    run('r1', [step('fetch', 'completed'), step('lint', 'skipped'), step('tests', 'running', { attempt: 2 }), step('decide', 'waiting', { waitFor: 'decision' }), step('ship', 'pending')]),
    run('r2', [step('echo', 'completed'), step('shout', 'parked', { error: { code: 'timeout', message: 'too slow' } })], 'r1', 'demo.shout'),
  ];

  it('counts done steps over every run, and names what runs, waits and is parked', () => {
    const p = computeProgress(task, runs, 'steward.step.run.started.v1');
    expect(p).toMatchObject({ done: 3, total: 7, target: 'acme.release@1', lastEvent: 'step.run.started', parked: ['demo.shout/shout (timeout)'] });
    expect(p.current).toEqual(['tests (running, attempt 2)', 'decide (waiting for decision)']);
    expect(progressText(p)).toBe('running · 3/7 steps · parked: demo.shout/shout (timeout)');
    expect(progressText(computeProgress(task, runs.slice(0, 1)))).toBe('running · 2/5 steps · tests (running, attempt 2), decide (waiting for decision)');
    expect(progressText(computeProgress({ ...task, status: 'pending' }, []))).toBe('pending');
  });

  it('draws a bar and a line that never exceeds the terminal width', () => {
    expect(bar(0, 4, 4)).toBe('[░░░░]');
    expect(bar(3, 4, 4)).toBe('[███░]');
    expect(bar(0, 0, 4)).toBe('[····]');
    const p = computeProgress(task, runs.slice(0, 1));
    for (const width of [30, 60, 120]) expect(progressLine(p, 1500, 0, width).length).toBeLessThan(width);
    expect(progressLine(p, 1500, 0, 200)).toBe('⠋  acme.release@1  running  [█████░░░░░░░] 2/5 steps  1.5s  tests (running, attempt 2), decide (waiting for decision)');
  });

  it('ends with the outcome: output or error', () => {
    expect(finalLines({ ...task, status: 'completed', output: { ok: true } }, 2000)).toEqual(['✓ acme.release@1 completed in 2.0s  t1', '  output: {\n    "ok": true\n  }']);
    expect(finalLines({ ...task, status: 'failed', error: { code: 'workflow_timeout', message: 'too slow', retryable: false } }, 2000)[1]).toBe('  error: workflow_timeout: too slow');
  });
});
