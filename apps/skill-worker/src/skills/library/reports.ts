// Parsers for test and lint reports: TAP, JUnit XML, jest/vitest JSON, eslint JSON. Pure functions, no I/O.
import { z } from 'zod';
import { SkillError } from '../skill.js';

export const TestFormat = z.enum(['auto', 'tap', 'junit', 'jest-json', 'vitest-json']);
export type TestFormat = z.infer<typeof TestFormat>;

export const TestFailure = z.object({ name: z.string(), message: z.string(), file: z.string().optional() });
export const TestSummary = z.object({
  format: z.enum(['tap', 'junit', 'jest-json', 'vitest-json']).describe('The format that was parsed.'),
  passed: z.number().int(),
  failed: z.number().int(),
  skipped: z.number().int().describe('Skipped, pending and todo tests.'),
  total: z.number().int(),
  failures: z.array(TestFailure),
});
export type TestSummary = z.infer<typeof TestSummary>;

const MAX_MESSAGE = 4_000;
const clip = (s: string): string => (s.length > MAX_MESSAGE ? `${s.slice(0, MAX_MESSAGE)}…` : s);
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** Finds the JSON document in output that may have log lines before it. */
export function extractJson(text: string): unknown {
  const trimmed = text.trim();
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    // fall through: look for the first line that starts a JSON value
  }
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!.trimStart();
    if (!l.startsWith('{') && !l.startsWith('[')) continue;
    try {
      return JSON.parse(lines.slice(i).join('\n')) as unknown;
    } catch {
      // try the next candidate
    }
  }
  return undefined;
}

// ------------------------------------------------------------------------------------------------ jest / vitest JSON

export function parseJestJson(doc: unknown, format: 'jest-json' | 'vitest-json' = 'jest-json'): TestSummary {
  if (!isRecord(doc) || !Array.isArray(doc.testResults)) throw new SkillError('unparseable_report', 'not a jest/vitest JSON report (no testResults)');
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const failures: z.infer<typeof TestFailure>[] = [];
  for (const file of doc.testResults) {
    if (!isRecord(file)) continue;
    const fileName = str(file.name) || str(file.testFilePath);
    const assertions = Array.isArray(file.assertionResults) ? file.assertionResults : Array.isArray(file.testResults) ? file.testResults : [];
    for (const a of assertions) {
      if (!isRecord(a)) continue;
      const status = str(a.status);
      if (status === 'passed') passed++;
      else if (status === 'failed') {
        failed++;
        const msgs = Array.isArray(a.failureMessages) ? a.failureMessages.map(str) : [];
        failures.push({ name: str(a.fullName) || str(a.title), message: clip(msgs.join('\n')), ...(fileName ? { file: fileName } : {}) });
      } else skipped++;
    }
    // A file that failed to load has no assertions but a message.
    if (assertions.length === 0 && str(file.status) === 'failed') {
      failed++;
      failures.push({ name: fileName || 'test file', message: clip(str(file.message)), ...(fileName ? { file: fileName } : {}) });
    }
  }
  if (passed + failed + skipped === 0) {
    passed = num(doc.numPassedTests);
    failed = num(doc.numFailedTests);
    skipped = num(doc.numPendingTests) + num(doc.numTodoTests);
  }
  return { format, passed, failed, skipped, total: passed + failed + skipped, failures };
}

// ------------------------------------------------------------------------------------------------ TAP

/** TAP 12/13/14, including node:test's indented subtests (only leaf test points are counted). */
export function parseTap(text: string): TestSummary {
  const lines = text.split(/\r?\n/);
  const point = /^(\s*)(not ok|ok)\b\s*(\d+)?\s*(?:-\s*)?([^#]*?)\s*(?:#\s*(\w+)\b\s*(.*))?$/;
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  let sawPoint = false;
  const failures: z.infer<typeof TestFailure>[] = [];
  // Subtests are printed (indented) before their parent: a point right after a deeper one is a parent.
  let prevIndent = -1;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const m = point.exec(line);
    if (!m) continue;
    sawPoint = true;
    const indent = m[1]!.length;
    const isParent = prevIndent > indent;
    prevIndent = indent;
    if (isParent) continue;
    const directive = (m[5] ?? '').toLowerCase();
    const name = m[4]!.trim() || `test ${m[3] ?? ''}`.trim();
    if (directive === 'skip' || directive === 'todo') skipped++;
    else if (m[2] === 'ok') passed++;
    else {
      failed++;
      failures.push({ name, message: clip(tapDiagnostics(lines, i + 1, indent)) });
    }
  }
  if (!sawPoint) throw new SkillError('unparseable_report', 'no TAP test points found');
  return { format: 'tap', passed, failed, skipped, total: passed + failed + skipped, failures };
}

/** The YAML diagnostics block after a failing point, or the `#` comment lines that follow it. */
function tapDiagnostics(lines: string[], from: number, indent: number): string {
  const first = lines[from] ?? '';
  if (first.trim() === '---') {
    const body: string[] = [];
    for (let j = from + 1; j < lines.length && lines[j]!.trim() !== '...'; j++) body.push(lines[j]!.slice(indent + 2));
    const msg = body.findIndex((l) => /^\s*(message|error):/.test(l));
    if (msg >= 0) {
      const v = body[msg]!.replace(/^\s*(message|error):\s*/, '');
      if (v === '|-' || v === '|' || v === '>' || v === '>-') {
        const base = /^\s*/.exec(body[msg]!)![0].length;
        const cont: string[] = [];
        for (let k = msg + 1; k < body.length && /^\s*/.exec(body[k]!)![0].length > base; k++) cont.push(body[k]!.trim());
        return cont.join('\n');
      }
      return v.replace(/^['"]|['"]$/g, '');
    }
    return body.join('\n').trim();
  }
  const comments: string[] = [];
  for (let j = from; j < lines.length && /^\s*#/.test(lines[j]!); j++) comments.push(lines[j]!.replace(/^\s*#\s?/, ''));
  return comments.join('\n');
}

// ------------------------------------------------------------------------------------------------ JUnit XML

interface XmlEl {
  name: string;
  attrs: Record<string, string>;
  children: XmlEl[];
  text: string;
}

const decodeEntities = (s: string): string =>
  s.replace(/&(#x[0-9a-f]+|#\d+|lt|gt|amp|quot|apos);/gi, (_, e: string) => {
    const l = e.toLowerCase();
    if (l === 'lt') return '<';
    if (l === 'gt') return '>';
    if (l === 'amp') return '&';
    if (l === 'quot') return '"';
    if (l === 'apos') return "'";
    const code = l.startsWith('#x') ? parseInt(l.slice(2), 16) : parseInt(l.slice(1), 10);
    return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : '';
  });

/** A small, tolerant XML reader: elements, attributes, text and CDATA; no DTDs or external entities (by design). */
export function parseXml(xml: string): XmlEl {
  const root: XmlEl = { name: '#root', attrs: {}, children: [], text: '' };
  const stack: XmlEl[] = [root];
  const token = /<!\[CDATA\[([\s\S]*?)\]\]>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!DOCTYPE[^>]*>|<\/([\w:.-]+)\s*>|<([\w:.-]+)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|([^<]+)/gi;
  let m: RegExpExecArray | null;
  while ((m = token.exec(xml)) !== null) {
    const top = stack[stack.length - 1]!;
    if (m[1] !== undefined) top.text += m[1];
    else if (m[2] !== undefined) {
      if (stack.length > 1 && top.name === m[2]) stack.pop();
    } else if (m[3] !== undefined) {
      const attrs: Record<string, string> = {};
      for (const a of (m[4] ?? '').matchAll(/([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) attrs[a[1]!] = decodeEntities(a[2] ?? a[3] ?? '');
      const el: XmlEl = { name: m[3], attrs, children: [], text: '' };
      top.children.push(el);
      if (m[5] !== '/') stack.push(el);
    } else if (m[6] !== undefined) top.text += decodeEntities(m[6]);
  }
  return root;
}

function* walk(el: XmlEl): Generator<XmlEl> {
  yield el;
  for (const c of el.children) yield* walk(c);
}

export function parseJunit(xml: string): TestSummary {
  const root = parseXml(xml);
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  let sawSuite = false;
  const failures: z.infer<typeof TestFailure>[] = [];
  for (const el of walk(root)) {
    if (el.name === 'testsuite' || el.name === 'testsuites') sawSuite = true;
    if (el.name !== 'testcase') continue;
    sawSuite = true;
    const name = [el.attrs.classname, el.attrs.name].filter(Boolean).join(' › ') || 'testcase';
    const bad = el.children.find((c) => c.name === 'failure' || c.name === 'error');
    if (bad) {
      failed++;
      const message = [bad.attrs.message, bad.text.trim()].filter(Boolean).join('\n');
      failures.push({ name, message: clip(message), ...(el.attrs.file ? { file: el.attrs.file } : {}) });
    } else if (el.children.some((c) => c.name === 'skipped')) skipped++;
    else passed++;
  }
  if (!sawSuite) throw new SkillError('unparseable_report', 'no <testsuite> or <testcase> elements found');
  return { format: 'junit', passed, failed, skipped, total: passed + failed + skipped, failures };
}

// ------------------------------------------------------------------------------------------------ dispatch

export function detectTestFormat(text: string): Exclude<TestFormat, 'auto'> | undefined {
  const t = text.trimStart();
  if (t.startsWith('<')) return 'junit';
  const json = extractJson(text);
  if (isRecord(json) && Array.isArray(json.testResults)) return 'jest-json';
  if (/^\s*(TAP version \d+|1\.\.\d+|(not )?ok\b)/m.test(text)) return 'tap';
  if (/<testsuites?[\s>]/.test(text)) return 'junit';
  return undefined;
}

export function parseTestReport(text: string, format: TestFormat): TestSummary {
  const f = format === 'auto' ? detectTestFormat(text) : format;
  switch (f) {
    case 'tap':
      return parseTap(text);
    case 'junit':
      return parseJunit(text.slice(Math.max(0, text.indexOf('<'))));
    case 'jest-json':
    case 'vitest-json':
      return parseJestJson(extractJson(text), f);
    case undefined:
      throw new SkillError('unparseable_report', 'could not recognise the report format (expected TAP, JUnit XML or jest/vitest JSON)');
  }
}

// ------------------------------------------------------------------------------------------------ eslint

export const LintProblem = z.object({
  file: z.string(),
  line: z.number().int(),
  column: z.number().int(),
  rule: z.string().nullable(),
  severity: z.enum(['error', 'warning']),
  message: z.string(),
});
export type LintProblem = z.infer<typeof LintProblem>;

/** eslint's `-f json` output. */
export function parseEslintJson(doc: unknown, relativeTo?: (abs: string) => string): LintProblem[] {
  if (!Array.isArray(doc)) throw new SkillError('unparseable_report', 'eslint JSON output must be an array of file results');
  const problems: LintProblem[] = [];
  for (const f of doc) {
    if (!isRecord(f) || !Array.isArray(f.messages)) continue;
    const file = relativeTo ? relativeTo(str(f.filePath)) : str(f.filePath);
    for (const m of f.messages) {
      if (!isRecord(m)) continue;
      problems.push({
        file,
        line: num(m.line),
        column: num(m.column),
        rule: typeof m.ruleId === 'string' ? m.ruleId : null,
        severity: m.severity === 2 || m.fatal === true ? 'error' : 'warning',
        message: str(m.message),
      });
    }
  }
  return problems;
}

/** Compiler-style `file:line:col: [error|warning] message` lines (tsc, gcc, ruff, flake8, eslint -f unix, golangci…). */
export function parseLintText(text: string): LintProblem[] {
  const problems: LintProblem[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^(.+?)[:(](\d+)[:,](\d+)\)?:?\s*-?\s*(?:(error|warning|warn|info|note)\b:?\s*)?(.*)$/i.exec(line.trim());
    if (!m) continue;
    const msg = m[5]!.trim();
    const rule = /\[([\w/@.-]+)\]\s*$/.exec(msg)?.[1] ?? /^([A-Z]+\d+)\b/.exec(msg)?.[1] ?? /\b(TS\d+)\b/.exec(msg)?.[1] ?? null;
    const sev = (m[4] ?? 'error').toLowerCase();
    problems.push({ file: m[1]!, line: Number(m[2]), column: Number(m[3]), rule, severity: sev === 'error' ? 'error' : 'warning', message: msg });
  }
  return problems;
}
