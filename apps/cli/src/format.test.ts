import { describe, expect, it } from 'vitest';
import type { CloudEvent, Task } from './api/schemas.js';
import { compactJson, eventName, wrap, wrapWords, formatDuration, formatEventLine, formatRelative, formatTask, summariseEvent, table, taskTarget, truncate } from './format.js';
import { COLOURS, stripAnsi } from './output.js';

describe('durations and times', () => {
  it('formats durations by size', () => {
    expect(formatDuration(0)).toBe('0 ms');
    expect(formatDuration(430.4)).toBe('430 ms');
    expect(formatDuration(4300)).toBe('4.3s');
    expect(formatDuration(184_000)).toBe('3m 04s');
    expect(formatDuration(2 * 3_600_000 + 5 * 60_000)).toBe('2h 05m');
    expect(formatDuration(3 * 86_400_000 + 7_200_000)).toBe('3d 02h');
    expect(formatDuration(-5)).toBe('0 ms');
  });

  it('formats times relative to now, past and future', () => {
    const now = Date.parse('2026-12-02T12:00:00Z');
    expect(formatRelative('2026-12-02T11:59:59.500Z', now)).toBe('just now');
    expect(formatRelative('2026-12-02T11:59:30Z', now)).toBe('30s ago');
    expect(formatRelative('2026-12-02T11:55:00Z', now)).toBe('5m ago');
    expect(formatRelative('2026-12-02T09:00:00Z', now)).toBe('3h ago');
    expect(formatRelative('2026-11-28T12:00:00Z', now)).toBe('4d ago');
    expect(formatRelative('2026-12-02T12:04:00Z', now)).toBe('in 4m');
    expect(formatRelative(undefined, now)).toBe('');
  });
});

describe('text', () => {
  it('truncates with an ellipsis and flattens newlines', () => {
    expect(truncate('hello', 10)).toBe('hello');
    expect(truncate('hello world', 6)).toBe('hello…');
    expect(truncate('a\n  b', 10)).toBe('a b');
    expect(compactJson({ a: [1, 2] })).toBe('{"a":[1,2]}');
    expect(compactJson(undefined)).toBe('');
  });

  it('wraps words with a hanging indent, and not at all without a width', () => {
    expect(wrap('one two three four five', 10, '  ')).toBe('one two\n  three four\n  five');
    expect(wrapWords(['a=1', 'b=2', 'c=3', 'd=4'], 10, ' ', '  ')).toBe('a=1  b=2\n c=3  d=4');
    expect(wrap('one two', Infinity)).toBe('one two');
  });

  it('pads columns to their widest cell and cuts the last one to the width', () => {
    const lines = table(['NAME', 'DESCRIPTION'], [['echo', 'returns its input'], ['text.uppercase', 'upper-cases every string value at any depth']], 40);
    expect(lines).toEqual(['NAME            DESCRIPTION', 'echo            returns its input', 'text.uppercase  upper-cases every strin…']);
    expect(lines.every((l) => l.length <= 40)).toBe(true);
  });

  it('pads by visible width when cells are coloured', () => {
    const lines = table(['A', 'B'], [[COLOURS.green('ok'), 'x']], 80, COLOURS).map(stripAnsi);
    expect(lines).toEqual(['A   B', 'ok  x']);
  });
});

describe('tasks', () => {
  const task: Task = {
    taskId: '3f2b8c1e-5d0a-4c6e-9a57-0c1f4e2d7b90',
    status: 'failed',
    kind: 'workflow',
    workflow: { name: 'demo.shout', version: 2 },
    input: { a: 1 },
    error: { code: 'workflow_timeout', message: 'too slow', retryable: false },
    createdAt: '2026-12-02T12:00:00.000Z',
    startedAt: '2026-12-02T12:00:01.000Z',
    completedAt: '2026-12-02T12:00:05.500Z',
  };

  it('names the target and shows status, duration and error', () => {
    expect(taskTarget(task)).toBe('demo.shout@2');
    expect(taskTarget({ kind: 'skill', skill: 'echo' })).toBe('echo');
    const text = formatTask(task, Date.parse('2026-12-02T12:01:00Z')).join('\n');
    expect(text).toContain('Status   failed after 4.5s');
    expect(text).toContain('Error    workflow_timeout: too slow');
    expect(text).toContain('"a": 1');
  });
});

describe('events', () => {
  const ev = (type: string, data: unknown): CloudEvent => ({ specversion: '1.0', id: 'e1', type, source: 's', time: '2026-12-02T12:00:01.250Z', correlationid: '3f2b8c1e-5d0a-4c6e-9a57-0c1f4e2d7b90', data });

  it('shortens types and summarises the data that matters', () => {
    expect(eventName('steward.step.run.completed.v1')).toBe('step.run.completed');
    expect(summariseEvent(ev('steward.step.run.failed.v1', { stepPath: 'lint', attempt: 2, error: { code: 'timeout', message: 'took too long' } }))).toBe('lint attempt=2 error=timeout (took too long)');
    expect(summariseEvent(ev('steward.task.submitted.v1', { target: { kind: 'workflow', workflow: 'demo.shout', version: 1 } }))).toBe('workflow=demo.shout');
    expect(summariseEvent(ev('steward.workflow.run.started.v1', { workflow: 'demo.shout', version: 1 }))).toBe('demo.shout@1');
    expect(summariseEvent(ev('steward.decision.resolved.v1', { choice: 'hold', resolvedBy: 'human' }))).toBe('choice=hold by=human');
    expect(summariseEvent(ev('steward.task.cancelled.v1', { reason: 'stop' }))).toBe('reason=stop');
    expect(summariseEvent(ev('steward.something.new.v3', 'not an object'))).toBe('');
  });

  it('prints one line per event with its sequence, time, name and task', () => {
    expect(formatEventLine({ seq: 42, event: ev('steward.step.run.waiting.v1', { stepPath: 'decide', for: 'decision' }) })).toBe('#42  12:00:01.250  step.run.waiting            task 3f2b8c1e  decide for=decision');
  });
});
