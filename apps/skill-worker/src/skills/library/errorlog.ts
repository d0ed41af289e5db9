// dev.errorlog.analyse: heuristic reading of error logs from Node, Python, Java and Go (no model involved).
import { z } from 'zod';
import { defineSkill } from '../skill.js';

const Language = z.enum(['node', 'python', 'java', 'go']);
type Language = z.infer<typeof Language>;

const Frame = z.object({
  function: z.string().nullable(),
  file: z.string(),
  line: z.number().int().nullable(),
  column: z.number().int().nullable(),
  internal: z.boolean().describe('Runtime, standard library or dependency code rather than the application.'),
});
type Frame = z.infer<typeof Frame>;

const ErrorEntry = z.object({
  language: Language,
  type: z.string().describe('Error/exception type, e.g. TypeError, KeyError, java.lang.NullPointerException, panic.'),
  message: z.string(),
  line: z.number().int().describe('1-based line of the log where it was found.'),
  frames: z.array(Frame),
  firstAppFrame: Frame.nullable().describe('The frame most likely at fault: the first (Python: last) non-internal frame.'),
  causedBy: z.array(z.object({ type: z.string(), message: z.string() })).describe('Chained causes (Java "Caused by", Node `[cause]`).'),
});
type ErrorEntry = z.infer<typeof ErrorEntry>;

const CAUSES: [category: string, pattern: RegExp][] = [
  ['module_not_found', /Cannot find module|ERR_MODULE_NOT_FOUND|ModuleNotFoundError|No module named|ImportError|ClassNotFoundException|NoClassDefFoundError|cannot find package|no required module provides package/i],
  ['syntax_error', /SyntaxError|IndentationError|unexpected token|ParseError|expected .* found/i],
  ['null_reference', /Cannot read propert(?:y|ies) of (?:undefined|null)|is not a function|undefined is not|NoneType|NullPointerException|nil pointer dereference|null reference/i],
  ['type_error', /TypeError|ClassCastException|cannot use .* as .* value|type mismatch/i],
  ['file_not_found', /ENOENT|FileNotFoundError|FileNotFoundException|no such file or directory/i],
  ['permission', /EACCES|EPERM|PermissionError|AccessDeniedException|permission denied/i],
  ['network', /ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|socket hang up|ConnectionError|ConnectionRefusedError|UnknownHostException|ConnectException|connection refused|dial tcp/i],
  ['port_in_use', /EADDRINUSE|address already in use|BindException/i],
  ['timeout', /ETIMEDOUT|TimeoutError|timed out|SocketTimeoutException|deadline exceeded|context deadline/i],
  ['out_of_memory', /heap out of memory|JavaScript heap|MemoryError|OutOfMemoryError|cannot allocate memory|ENOMEM|runtime: out of memory/i],
  ['assertion', /AssertionError|AssertionFailedError|expected .* to (?:be|equal)|assert\.|toBe\(|toEqual\(/i],
  ['auth', /\b401\b|\b403\b|Unauthorized|Forbidden|authentication failed|invalid token|AuthenticationException/i],
  ['index_or_key', /IndexError|KeyError|ArrayIndexOutOfBounds|IndexOutOfBoundsException|index out of range|RangeError/i],
  ['dependency_version', /ERESOLVE|peer dep|version conflict|incompatible|UnsupportedClassVersionError|requires Python|engine .* is incompatible/i],
  ['concurrency', /deadlock|all goroutines are asleep|ConcurrentModificationException|data race|race detected/i],
  ['stack_overflow', /Maximum call stack size exceeded|RecursionError|StackOverflowError|goroutine stack exceeds/i],
];

const nodeInternal = (f: string): boolean => f.startsWith('node:') || f.includes('node_modules') || f.startsWith('internal/') || f === 'native';
const pyInternal = (f: string): boolean => /site-packages|dist-packages|[/\\]lib[/\\]python\d|<frozen /.test(f);
const javaInternal = (fn: string): boolean => /^(java|javax|jdk|sun|com\.sun|org\.junit|org\.springframework|kotlin)\./.test(fn);
const goInternal = (fn: string, f: string): boolean => fn.startsWith('runtime.') || f.includes('/go/src/') || f.includes('/pkg/mod/') || /^testing\./.test(fn);

export function analyseLog(text: string, maxErrors = 20): { errors: ErrorEntry[]; languages: Language[] } {
  const lines = text.split(/\r?\n/);
  const errors: ErrorEntry[] = [];
  const add = (e: ErrorEntry): void => {
    if (errors.length < maxErrors) errors.push(e);
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;

    // Python: "Traceback (most recent call last):" then File frames, then "Type: message".
    if (/^\s*Traceback \(most recent call last\):/.test(line)) {
      const frames: Frame[] = [];
      let j = i + 1;
      for (; j < lines.length; j++) {
        const m = /^\s*File "(.+?)", line (\d+)(?:, in (.+))?/.exec(lines[j]!);
        if (m) frames.push({ function: m[3] ?? null, file: m[1]!, line: Number(m[2]), column: null, internal: pyInternal(m[1]!) });
        else if (/^\s{2,}/.test(lines[j]!) || /^\s*\^+\s*$/.test(lines[j]!)) continue;
        else break;
      }
      const ex = /^([A-Za-z_][\w.]*)(?::\s?(.*))?$/.exec((lines[j] ?? '').trim());
      const app = [...frames].reverse().find((f) => !f.internal) ?? frames[frames.length - 1] ?? null;
      add({ language: 'python', type: ex?.[1] ?? 'Exception', message: ex?.[2] ?? '', line: i + 1, frames, firstAppFrame: app, causedBy: [] });
      i = j;
      continue;
    }

    // Go: "panic: message" then "goroutine N [running]:" and function / "\tfile:line +0x" pairs.
    const panic = /^(panic|fatal error): (.*)$/.exec(line);
    if (panic) {
      const frames: Frame[] = [];
      let j = i + 1;
      for (; j < lines.length; j++) {
        const l = lines[j]!;
        if (/^goroutine \d+ \[/.test(l) || l.trim() === '' || /^\[signal /.test(l)) continue;
        const loc = /^\t(.+?):(\d+)(?: \+0x[0-9a-f]+)?$/.exec(l);
        if (loc && frames.length > 0 && frames[frames.length - 1]!.file === '') {
          const f = frames[frames.length - 1]!;
          frames[frames.length - 1] = { ...f, file: loc[1]!, line: Number(loc[2]), internal: goInternal(f.function ?? '', loc[1]!) };
          continue;
        }
        if (/^[\w./*()-]+\(.*\)$/.test(l)) {
          frames.push({ function: l.replace(/\(.*\)$/, ''), file: '', line: null, column: null, internal: true });
          continue;
        }
        if (/^exit status \d+/.test(l)) continue;
        break;
      }
      const real = frames.filter((f) => f.file !== '');
      const type = panic[1] === 'panic' ? (/runtime error/.test(panic[2]!) ? 'runtime error' : 'panic') : 'fatal error';
      add({ language: 'go', type, message: panic[2]!, line: i + 1, frames: real, firstAppFrame: real.find((f) => !f.internal) ?? null, causedBy: [] });
      i = j - 1;
      continue;
    }

    // Java: "Exception in thread … Type: message" or "Type: message" followed by "\tat pkg.Class.method(File.java:12)".
    const java = /^(?:Exception in thread "[^"]*" )?((?:[a-z_$][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error|Throwable)|[A-Z][\w$]*(?:Exception|Error))(?::\s*(.*))?$/.exec(line.trim());
    const javaNext = /^\s+at [\w$.<>/]+\(.*\)\s*$/.test(lines[i + 1] ?? '');
    if (java && javaNext) {
      const frames: Frame[] = [];
      const causedBy: { type: string; message: string }[] = [];
      let j = i + 1;
      for (; j < lines.length; j++) {
        const l = lines[j]!;
        const fm = /^\s+at ([\w$.<>/]+)\(([^:)]*)(?::(\d+))?\)/.exec(l);
        if (fm) {
          if (causedBy.length === 0) frames.push({ function: fm[1]!, file: fm[2]!, line: fm[3] ? Number(fm[3]) : null, column: null, internal: javaInternal(fm[1]!) });
          continue;
        }
        const cm = /^\s*Caused by: ([\w$.]+)(?::\s*(.*))?$/.exec(l);
        if (cm) {
          causedBy.push({ type: cm[1]!, message: cm[2] ?? '' });
          continue;
        }
        if (/^\s+\.\.\. \d+ more/.test(l)) continue;
        break;
      }
      add({ language: 'java', type: java[1]!, message: java[2] ?? '', line: i + 1, frames, firstAppFrame: frames.find((f) => !f.internal) ?? null, causedBy });
      i = j - 1;
      continue;
    }

    // Node: "TypeError: message" (optionally "Uncaught", or a code in brackets) followed by "    at fn (file:line:col)".
    const node = /^(?:Uncaught )?([A-Z][\w$]*(?:Error|Exception)|Error)(?: \[([A-Z_]+)\])?:\s*(.*)$/.exec(line.trim());
    const nodeNext = /^\s+at .+/.test(lines[i + 1] ?? '');
    if (node && nodeNext) {
      const frames: Frame[] = [];
      const causedBy: { type: string; message: string }[] = [];
      let j = i + 1;
      for (; j < lines.length; j++) {
        const l = lines[j]!;
        const fm = /^\s+at (?:async )?(?:(.+?) \()?(.+?):(\d+):(\d+)\)?\s*$/.exec(l) ?? /^\s+at (?:(.+?) \()?(native|<anonymous>)\)?\s*$/.exec(l);
        if (fm) {
          if (causedBy.length === 0) frames.push({ function: fm[1] ?? null, file: fm[2]!, line: fm[3] ? Number(fm[3]) : null, column: fm[4] ? Number(fm[4]) : null, internal: nodeInternal(fm[2]!) });
          continue;
        }
        const cm = /^\s*\[cause\]: ([\w$]+)(?::\s*(.*))?/.exec(l);
        if (cm) {
          causedBy.push({ type: cm[1]!, message: cm[2] ?? '' });
          continue;
        }
        if (/^\s+(code|errno|syscall|path|\{|\}|\w+:)/.test(l)) continue;
        break;
      }
      const type = node[2] ? `${node[1]} [${node[2]}]` : node[1]!;
      add({ language: 'node', type, message: node[3] ?? '', line: i + 1, frames, firstAppFrame: frames.find((f) => !f.internal) ?? null, causedBy });
      i = j - 1;
      continue;
    }
  }
  const languages = [...new Set(errors.map((e) => e.language))];
  return { errors, languages };
}

export const errorlogAnalyse = defineSkill({
  name: 'dev.errorlog.analyse',
  category: 'dev',
  description:
    'Reads an error log (Node, Python, Java, Go) with heuristics: finds stack traces, error types and messages, chained causes, the first application frame at fault, and likely cause categories (missing module, null reference, network, timeout, permission, out of memory…) with the evidence line.',
  sideEffects: 'none',
  timeoutMs: 10_000,
  input: z.object({
    log: z.string().max(20 * 1024 * 1024).describe('Log text.'),
    maxErrors: z.number().int().min(1).max(200).default(20),
  }),
  output: z.object({
    languages: z.array(Language),
    errors: z.array(ErrorEntry).describe('Errors with stack traces, in log order.'),
    firstError: ErrorEntry.nullable(),
    firstFailingFrame: Frame.nullable().describe('Application frame of the first error with one.'),
    causes: z.array(z.object({ category: z.string(), evidence: z.string(), line: z.number().int() })).describe('Likely cause categories, most evidence first.'),
    errorLines: z.number().int().describe('Lines that mention an error, exception, panic or failure.'),
    summary: z.string(),
  }),
  run: async (input) => {
    const { errors, languages } = analyseLog(input.log, input.maxErrors);
    const lines = input.log.split(/\r?\n/);
    // Causes: count matching lines per category; keep the first as evidence.
    const found = new Map<string, { evidence: string; line: number; count: number }>();
    lines.forEach((l, idx) => {
      for (const [cat, re] of CAUSES) {
        if (!re.test(l)) continue;
        const prev = found.get(cat);
        if (prev) prev.count++;
        else found.set(cat, { evidence: l.trim().slice(0, 300), line: idx + 1, count: 1 });
      }
    });
    const causes = [...found].sort((a, b) => b[1].count - a[1].count || a[1].line - b[1].line).map(([category, v]) => ({ category, evidence: v.evidence, line: v.line }));
    const errorLines = lines.filter((l) => /\b(error|exception|panic|fatal|failed|failure|traceback)\b/i.test(l)).length;
    const firstError = errors[0] ?? null;
    const firstFailingFrame = errors.find((e) => e.firstAppFrame)?.firstAppFrame ?? null;
    const where = firstFailingFrame ? ` at ${firstFailingFrame.file}:${firstFailingFrame.line ?? '?'}` : '';
    const summary = firstError
      ? `${errors.length} error(s); first: ${firstError.type}: ${firstError.message.slice(0, 200)}${where}${causes[0] ? `; likely cause: ${causes[0].category}` : ''}`
      : causes[0]
        ? `no stack trace found; likely cause: ${causes[0].category} (line ${causes[0].line})`
        : `no stack trace found; ${errorLines} line(s) mention errors`;
    return { languages, errors, firstError, firstFailingFrame, causes, errorLines, summary };
  },
});
