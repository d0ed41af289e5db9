import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandRun, lintRun, testsRun } from './dev-command.js';
import { Workspace } from './run-command.js';
import { call, ctx, tempRoot } from './test-helpers.js';

let cleanup: () => Promise<void>;
let ws: Workspace;
const W = 'devcmd';
beforeAll(async () => {
  cleanup = (await tempRoot()).cleanup;
  ws = await Workspace.forSkill({ idempotencyKey: 'x', tenantId: 'test' }, W);
});
afterAll(async () => cleanup());

describe('dev.command.run', () => {
  it('runs a program in the workspace and returns the result', async () => {
    const r = await call(commandRun, { workspace: W, command: 'sh', args: ['-c', 'pwd; echo "$STEWARD_IDEMPOTENCY_KEY"'] }, ctx('cmd-1'));
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(`${ws.dir}\ncmd-1\n`);
    expect(r.replayed).toBe(false);
  });

  it('replays the recorded result on retry instead of running again (once)', async () => {
    const c = ctx('cmd-once');
    const args = ['-c', 'echo run >> runs.txt; wc -l < runs.txt'];
    const first = await call(commandRun, { workspace: W, command: 'sh', args }, c);
    const retry = await call(commandRun, { workspace: W, command: 'sh', args }, { ...c, attempt: 2 });
    expect(retry).toEqual({ ...first, replayed: true });
    const again = await call(commandRun, { workspace: W, command: 'sh', args, once: false }, ctx('cmd-twice'));
    expect(again.stdout.trim()).toBe('2');
  });

  it('reports a timeout as a result', async () => {
    const r = await call(commandRun, { workspace: W, command: 'sleep', args: ['10'], timeoutMs: 200, once: false });
    expect(r.timedOut).toBe(true);
  });

  it('refuses a cwd outside the workspace and forbidden env', async () => {
    await expect(call(commandRun, { workspace: W, command: 'true', cwd: '../..' })).rejects.toMatchObject({ code: 'path_outside_workspace' });
    expect(() => commandRun.input.parse({ command: 'true', env: { LD_PRELOAD: 'x' } })).toThrow();
  });
});

describe('dev.tests.run', () => {
  it('runs node --test with the TAP reporter and parses the results', async () => {
    await writeFile(
      path.join(ws.dir, 'sample.test.mjs'),
      "import test from 'node:test';\nimport assert from 'node:assert';\ntest('adds', () => assert.equal(1 + 1, 2));\ntest('breaks', () => assert.equal(1 + 1, 3));\ntest('later', { skip: true }, () => {});\n",
    );
    const r = await call(testsRun, { workspace: W, command: 'node', args: ['--test', '--test-reporter=tap', 'sample.test.mjs'] });
    expect(r.ok).toBe(false);
    expect(r.exitCode).toBe(1);
    expect(r.summary).toMatchObject({ format: 'tap', passed: 1, failed: 1, skipped: 1, total: 3 });
    expect(r.summary?.failures[0]?.name).toBe('breaks');
    expect(r.summary?.failures[0]?.message).toMatch(/3|equal/);
  });

  it('reads a JUnit report file', async () => {
    const xml = '<testsuites><testsuite name="s"><testcase classname="A" name="ok"/><testcase classname="A" name="bad"><failure message="boom"/></testcase></testsuite></testsuites>';
    await writeFile(path.join(ws.dir, 'junit.xml'), xml);
    const r = await call(testsRun, { workspace: W, command: 'true', reportFile: 'junit.xml' });
    expect(r.summary).toMatchObject({ format: 'junit', passed: 1, failed: 1 });
    expect(r.ok).toBe(false);
  });

  it('returns parseError when the output is not a report', async () => {
    const r = await call(testsRun, { workspace: W, command: 'echo', args: ['nothing here'] });
    expect(r.summary).toBeNull();
    expect(r.parseError).toMatch(/recognise/);
  });
});

describe('dev.lint.run', () => {
  it('parses eslint JSON output with workspace-relative paths', async () => {
    const report = JSON.stringify([{ filePath: path.join(ws.dir, 'src/a.ts'), messages: [{ ruleId: 'no-unused-vars', severity: 2, message: "'x' is unused", line: 3, column: 7 }, { ruleId: 'semi', severity: 1, message: 'Missing semicolon', line: 4, column: 1 }] }]);
    await writeFile(path.join(ws.dir, 'eslint.json'), report);
    const r = await call(lintRun, { workspace: W, command: 'sh', args: ['-c', 'cat eslint.json; exit 1'] });
    expect(r).toMatchObject({ errorCount: 1, warningCount: 1, ok: false, exitCode: 1 });
    expect(r.problems[0]).toEqual({ file: 'src/a.ts', line: 3, column: 7, rule: 'no-unused-vars', severity: 'error', message: "'x' is unused" });
  });

  it('parses compiler-style text output', async () => {
    const r = await call(lintRun, { workspace: W, command: 'printf', args: ['src/x.ts(4,10): error TS2322: Type string is not assignable.\n'] });
    expect(r.problems).toEqual([{ file: 'src/x.ts', line: 4, column: 10, rule: 'TS2322', severity: 'error', message: 'TS2322: Type string is not assignable.' }]);
  });

  it('a clean run is ok', async () => {
    const r = await call(lintRun, { workspace: W, command: 'echo', args: ['[]'] });
    expect(r).toMatchObject({ ok: true, errorCount: 0, warningCount: 0 });
  });
});
