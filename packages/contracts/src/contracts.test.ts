import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Catalogue, Filters, InvalidMessageError, decodeEvent, jsonSchemaFiles, deterministicId, makeEvent, subjectMatches } from './index.js';

const ctx = { source: 'steward/test', tenantId: 't1', correlationId: 'task-1' };
const submitted = { taskId: 'task-1', tenantId: 't1', target: { kind: 'skill' as const, skill: 'echo' }, input: { a: 1 }, submittedAt: new Date().toISOString() };

function expectInvalid(fn: () => unknown, reason: InvalidMessageError['reason']) {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidMessageError);
    expect((err as InvalidMessageError).reason).toBe(reason);
    return err as InvalidMessageError;
  }
  throw new Error('expected an InvalidMessageError');
}

describe('catalogue', () => {
  it('gives every entry a unique type and a subject inside its stream', () => {
    const types = Object.values(Catalogue).map((e) => e.type);
    expect(new Set(types).size).toBe(types.length);
    for (const [key, e] of Object.entries(Catalogue)) {
      expect(e.type).toBe(`steward.${key}`);
      expect(e.filter.startsWith(e.stream === 'commands' ? 'steward.cmd.' : 'steward.evt.')).toBe(true);
    }
  });

  it('routes skill invocations by category and results by requester', () => {
    const inv = makeEvent('skill.invoke.v1', { invocationId: 'i1', tenantId: 't1', taskId: 'task-1', requester: 'orchestrator', skill: 'dev.lint', category: 'dev', attempt: 1, idempotencyKey: 'i1', input: {}, timeoutMs: 1000 }, ctx);
    expect(inv.subject).toBe('steward.cmd.skill.invoke.v1.dev');
    expect(subjectMatches(Catalogue['skill.invoke.v1'].filter, inv.subject)).toBe(true);
    const done = makeEvent('skill.invocation.completed.v1', { invocationId: 'i1', taskId: 'task-1', requester: 'workflow-runner', attempt: 1, output: 1, durationMs: 1 }, ctx);
    expect(done.subject).toBe('steward.evt.skill.invocation.completed.v1.workflow-runner');
  });

  it('matches NATS wildcards like the server does', () => {
    expect(subjectMatches('a.*.c', 'a.b.c')).toBe(true);
    expect(subjectMatches('a.*', 'a.b.c')).toBe(false);
    expect(subjectMatches('a.>', 'a.b.c')).toBe(true);
    expect(subjectMatches('a.>', 'a')).toBe(false);
    expect(subjectMatches('a.b', 'a.b.c')).toBe(false);
  });
});

describe('envelope', () => {
  it('round-trips a valid event through decode', () => {
    const out = makeEvent('task.submitted.v1', submitted, { ...ctx, traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    const decoded = decodeEvent(out.subject, JSON.stringify(out.envelope));
    expect(decoded.entry.type).toBe('steward.task.submitted.v1');
    expect(decoded.envelope.data).toEqual(submitted);
    expect(decoded.envelope.specversion).toBe('1.0');
  });

  it('refuses invalid data when making an event', () => {
    expect(() => makeEvent('task.submitted.v1', { ...submitted, taskId: '' }, ctx)).toThrow();
  });

  it('names the reason for each kind of bad message', () => {
    const good = makeEvent('task.submitted.v1', submitted, ctx);
    expectInvalid(() => decodeEvent(good.subject, '{nope'), 'not-json');
    expectInvalid(() => decodeEvent(good.subject, JSON.stringify({ ...good.envelope, specversion: '0.3' })), 'bad-envelope');
    expectInvalid(() => decodeEvent(good.subject, JSON.stringify({ ...good.envelope, type: 'steward.nope.v1' })), 'unknown-type');
    expectInvalid(() => decodeEvent('steward.evt.task.completed.v1', JSON.stringify(good.envelope)), 'wrong-subject');
    const bad = expectInvalid(() => decodeEvent(good.subject, JSON.stringify({ ...good.envelope, data: { ...submitted, input: 'x' } })), 'bad-data');
    expect(JSON.stringify(bad.issues)).toContain('input');
  });

  it('makes deterministic ids that are valid UUIDs', () => {
    const a = deterministicId('inv-1', 'completed');
    expect(a).toBe(deterministicId('inv-1', 'completed'));
    expect(a).not.toBe(deterministicId('inv-1', 'failed'));
    expect(() => makeEvent('task.started.v1', { taskId: 'x', startedAt: new Date().toISOString() }, { ...ctx, id: a })).not.toThrow();
  });
});

describe('JSON Schema', () => {
  it('is checked in and up to date with the zod catalogue (run `pnpm --filter @steward/contracts schemas`)', () => {
    const dir = join(import.meta.dirname, '..', 'json-schema');
    const generated = jsonSchemaFiles();
    expect(readdirSync(dir).sort()).toEqual(Object.keys(generated).sort());
    for (const [file, schema] of Object.entries(generated)) {
      expect(JSON.parse(readFileSync(join(dir, file), 'utf8'))).toEqual(schema);
    }
  });
});

describe('multi-entry filters', () => {
  it('select exactly the entries they name', () => {
    const all = Object.values(Catalogue);
    const sample = (e: (typeof all)[number]) => e.filter.replace('*', 'orchestrator');
    const hits = (f: string) => all.filter((e) => subjectMatches(f, sample(e))).map((e) => e.type).sort();
    expect(hits(Filters.skillResultsFor('orchestrator'))).toEqual([
      'steward.skill.invocation.completed.v1',
      'steward.skill.invocation.failed.v1',
      'steward.skill.invocation.heartbeat.v1',
      'steward.skill.invocation.started.v1',
    ]);
    expect(hits(Filters.workflowRunLifecycle)).toEqual([
      'steward.workflow.run.cancelled.v1',
      'steward.workflow.run.completed.v1',
      'steward.workflow.run.failed.v1',
      'steward.workflow.run.parked.v1',
      'steward.workflow.run.resumed.v1',
      'steward.workflow.run.started.v1',
    ]);
  });
});
