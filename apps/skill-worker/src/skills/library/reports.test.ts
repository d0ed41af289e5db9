import { describe, expect, it } from 'vitest';
import { testsParse } from './dev-command.js';
import { detectTestFormat, parseEslintJson, parseLintText, parseTestReport } from './reports.js';
import { call } from './test-helpers.js';

const tap = `TAP version 13
# Subtest: suite
    # Subtest: inner ok
    ok 1 - inner ok
      ---
      duration_ms: 1
      ...
    # Subtest: inner bad
    not ok 2 - inner bad
      ---
      duration_ms: 2
      failureType: 'testCodeFailure'
      error: |-
        Expected values to be strictly equal:
        2 !== 3
      code: 'ERR_ASSERTION'
      ...
    1..2
not ok 1 - suite
# Subtest: top
ok 2 - top # SKIP not now
ok 3 - plain
1..3
`;

const junit = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="math" tests="4">
    <testcase classname="math.Add" name="adds &amp; sums" time="0.01"/>
    <testcase classname="math.Div" name="divides"><failure message="expected 2 &lt; 1" type="AssertionError"><![CDATA[at div.test.js:3]]></failure></testcase>
    <testcase classname="math.Err" name="crashes"><error message="boom"/></testcase>
    <testcase classname="math.Skip" name="later"><skipped/></testcase>
  </testsuite>
</testsuites>`;

const jest = {
  numPassedTests: 1,
  numFailedTests: 1,
  testResults: [
    {
      name: '/repo/a.test.ts',
      status: 'failed',
      assertionResults: [
        { fullName: 'a works', status: 'passed', failureMessages: [] },
        { fullName: 'a breaks', status: 'failed', failureMessages: ['AssertionError: expected 1 to be 2'] },
        { fullName: 'a todo', status: 'todo', failureMessages: [] },
      ],
    },
    { name: '/repo/b.test.ts', status: 'failed', message: 'SyntaxError: Unexpected token', assertionResults: [] },
  ],
};

describe('test report parsers', () => {
  it('parses node:test TAP counting only leaf tests, with YAML diagnostics', () => {
    const s = parseTestReport(tap, 'auto');
    expect(s).toMatchObject({ format: 'tap', passed: 2, failed: 1, skipped: 1, total: 4 });
    expect(s.failures).toEqual([{ name: 'inner bad', message: 'Expected values to be strictly equal:\n2 !== 3' }]);
  });

  it('parses plain TAP with comment diagnostics', () => {
    const s = parseTestReport('1..2\nok 1 first\nnot ok 2 second\n# got 1\n# want 2\n', 'tap');
    expect(s).toMatchObject({ passed: 1, failed: 1, failures: [{ name: 'second', message: 'got 1\nwant 2' }] });
  });

  it('parses JUnit XML with failures, errors, skips, entities and CDATA', () => {
    const s = parseTestReport(junit, 'auto');
    expect(s).toMatchObject({ format: 'junit', passed: 1, failed: 2, skipped: 1, total: 4 });
    expect(s.failures[0]).toEqual({ name: 'math.Div › divides', message: 'expected 2 < 1\nat div.test.js:3' });
    expect(s.failures[1]?.message).toBe('boom');
  });

  it('parses jest/vitest JSON, also after log lines, including files that failed to load', () => {
    const s = parseTestReport(`some log line\n${JSON.stringify(jest, null, 2)}`, 'auto');
    expect(s).toMatchObject({ format: 'jest-json', passed: 1, failed: 2, skipped: 1 });
    expect(s.failures.map((f) => f.name)).toEqual(['a breaks', '/repo/b.test.ts']);
    expect(parseTestReport(JSON.stringify(jest), 'vitest-json').format).toBe('vitest-json');
  });

  it('detects formats and rejects unknown text', () => {
    expect(detectTestFormat(junit)).toBe('junit');
    expect(detectTestFormat(tap)).toBe('tap');
    expect(() => parseTestReport('all good!', 'auto')).toThrow(/recognise/);
  });

  it('dev.tests.parse skill returns the summary', async () => {
    expect(await call(testsParse, { text: junit })).toMatchObject({ passed: 1, failed: 2 });
  });
});

describe('lint parsers', () => {
  it('parses eslint JSON, fatal parse errors count as errors', () => {
    const p = parseEslintJson([{ filePath: '/w/a.ts', messages: [{ fatal: true, severity: 2, message: 'Parsing error', line: 1, column: 1 }] }], (f) => f.replace('/w/', ''));
    expect(p).toEqual([{ file: 'a.ts', line: 1, column: 1, rule: null, severity: 'error', message: 'Parsing error' }]);
  });

  it('parses unix / gcc / ruff style text', () => {
    const p = parseLintText('src/a.py:3:1: F401 [*] `os` imported but unused\nmain.c:10:5: warning: unused variable [-Wunused-variable]\nnot a problem line\n');
    expect(p).toEqual([
      { file: 'src/a.py', line: 3, column: 1, rule: 'F401', severity: 'error', message: 'F401 [*] `os` imported but unused' },
      { file: 'main.c', line: 10, column: 5, rule: '-Wunused-variable', severity: 'warning', message: 'unused variable [-Wunused-variable]' },
    ]);
  });
});
