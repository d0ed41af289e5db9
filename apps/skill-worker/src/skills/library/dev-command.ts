// Process-running dev skills (command, tests, lint) and the pure report parser skill.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { defineSkill, SkillError, type SkillContext } from '../skill.js';
import { recall, remember } from './ledger.js';
import { LintProblem, TestFormat, TestSummary, extractJson, parseEslintJson, parseLintText, parseTestReport } from './reports.js';
import { envField, runCommand, runResultShape, Workspace, workspaceField, type RunCommandResult } from './run-command.js';

const MiB = 1024 * 1024;
const tail = (s: string, n = 4_000): string => (s.length > n ? `…${s.slice(-n)}` : s);

/** What the test and lint skills report of the program run itself. */
const ranFor = (r: RunCommandResult) => ({ exitCode: r.exitCode, timedOut: r.timedOut, durationMs: r.durationMs, stdoutTail: tail(r.stdout), stderrTail: tail(r.stderr) });

const commandFields = {
  workspace: workspaceField,
  command: z.string().min(1).max(4096).describe('Program to run: a name looked up on PATH or a path relative to cwd. Never run through a shell.'),
  args: z.array(z.string().max(100_000)).max(1000).default([]).describe('Arguments, passed literally.'),
  cwd: z.string().default('.').describe('Working directory, relative to the workspace.'),
  env: envField,
  network: z.boolean().default(true).describe('false runs the program without network (needs unshare on the machine, else the skill fails).'),
};

async function prepare(ctx: SkillContext, input: { workspace?: string | undefined; cwd: string }): Promise<{ ws: Workspace; cwd: string }> {
  const ws = await Workspace.forSkill(ctx, input.workspace);
  const cwd = await ws.resolve(input.cwd);
  const st = await stat(cwd).catch(() => undefined);
  if (!st?.isDirectory()) throw new SkillError('not_found', `cwd is not a directory in the workspace: ${input.cwd}`);
  return { ws, cwd };
}

// ------------------------------------------------------------------------------------------------ dev.command.run

const CommandResult = z.object({ ...runResultShape, replayed: z.boolean().describe('True when this is the recorded result of an earlier attempt with the same key.') });

export const commandRun = defineSkill({
  name: 'dev.command.run',
  category: 'dev',
  description:
    'Runs a program with arguments (no shell) in the workspace with an allow-listed environment, a timeout and an output cap; returns exit code and output. A non-zero exit is a result, not an error. With once=true a retry returns the recorded result instead of running again.',
  sideEffects: 'irreversible',
  timeoutMs: 31 * 60_000,
  input: z.object({
    ...commandFields,
    stdin: z.string().max(10 * MiB).optional().describe('Text written to the standard input.'),
    timeoutMs: z.number().int().min(100).max(30 * 60_000).default(5 * 60_000),
    maxOutputBytes: z.number().int().min(1).max(16 * MiB).default(MiB).describe('Cap for stdout and for stderr, each.'),
    once: z.boolean().default(true).describe('Record the result under the idempotency key and replay it on retry instead of running again.'),
  }),
  output: CommandResult,
  run: async (input, ctx) => {
    const scope = 'dev.command.run';
    if (input.once) {
      const prior = CommandResult.safeParse(await recall(scope, ctx.idempotencyKey));
      if (prior.success) return { ...prior.data, replayed: true };
    }
    const { ws, cwd } = await prepare(ctx, input);
    const r = await runCommand({
      command: input.command,
      args: input.args,
      cwd,
      workspace: ws,
      timeoutMs: input.timeoutMs,
      maxOutputBytes: input.maxOutputBytes,
      // The program can dedupe its own outside effects with the key.
      env: { STEWARD_IDEMPOTENCY_KEY: ctx.idempotencyKey, ...input.env },
      ...(input.stdin !== undefined ? { stdin: input.stdin } : {}),
      network: input.network,
      signal: ctx.signal,
    });
    const result = { ...r, replayed: false };
    if (input.once) await remember(scope, ctx.idempotencyKey, result);
    return result;
  },
});

// ------------------------------------------------------------------------------------------------ dev.tests.parse

export const testsParse = defineSkill({
  name: 'dev.tests.parse',
  category: 'dev',
  description: 'Parses a test report (TAP, JUnit XML, jest or vitest JSON; auto-detected by default) into pass/fail/skip counts and the failures with their messages.',
  sideEffects: 'none',
  timeoutMs: 10_000,
  input: z.object({ text: z.string().max(50 * MiB).describe('The report text.'), format: TestFormat.default('auto') }),
  output: TestSummary,
  run: async (input) => parseTestReport(input.text, input.format),
});

// ------------------------------------------------------------------------------------------------ dev.tests.run

const runOutputShape = {
  exitCode: z.number().int().nullable(),
  timedOut: z.boolean(),
  durationMs: z.number(),
  stdoutTail: z.string().describe('Last 4000 characters of stdout.'),
  stderrTail: z.string().describe('Last 4000 characters of stderr.'),
};

export const testsRun = defineSkill({
  name: 'dev.tests.run',
  category: 'dev',
  description:
    "Runs a project's test command in the workspace (e.g. `npx vitest run --reporter=json`, `pytest --junitxml=r.xml`, `node --test --test-reporter=tap`) and parses the results from stdout or a report file.",
  sideEffects: 'reversible',
  timeoutMs: 31 * 60_000,
  input: z.object({
    ...commandFields,
    format: TestFormat.default('auto'),
    reportFile: z.string().optional().describe('Read the report from this workspace file instead of stdout (e.g. a JUnit XML file).'),
    timeoutMs: z.number().int().min(100).max(30 * 60_000).default(10 * 60_000),
  }),
  output: z.object({
    ...runOutputShape,
    ok: z.boolean().describe('Exit 0, not timed out, and no failed tests.'),
    summary: TestSummary.nullable().describe('Parsed results; null when the report could not be parsed.'),
    parseError: z.string().nullable(),
  }),
  run: async (input, ctx) => {
    const { ws, cwd } = await prepare(ctx, input);
    const r = await runCommand({ command: input.command, args: input.args, cwd, workspace: ws, timeoutMs: input.timeoutMs, maxOutputBytes: 32 * MiB, env: input.env, network: input.network, signal: ctx.signal });
    let report = r.stdout;
    let parseError: string | null = null;
    let summary: TestSummary | null = null;
    try {
      if (input.reportFile) report = await readFile(await ws.resolve(path.join(path.relative(ws.dir, cwd), input.reportFile)), 'utf8');
      summary = parseTestReport(report, input.format);
    } catch (err) {
      parseError = err instanceof Error ? err.message : String(err);
    }
    return {
      ...ranFor(r),
      ok: r.exitCode === 0 && !r.timedOut && (summary?.failed ?? 0) === 0,
      summary,
      parseError,
    };
  },
});

// ------------------------------------------------------------------------------------------------ dev.lint.run

const MAX_PROBLEMS = 1_000;

export function lintFromOutput(r: Pick<RunCommandResult, 'stdout'>, format: 'auto' | 'eslint-json' | 'text', rel: (abs: string) => string): LintProblem[] {
  if (format === 'text') return parseLintText(r.stdout);
  const json = extractJson(r.stdout);
  if (Array.isArray(json)) return parseEslintJson(json, rel);
  if (format === 'eslint-json') throw new SkillError('unparseable_report', 'expected eslint JSON output (run eslint with `-f json`)');
  return parseLintText(r.stdout);
}

export const lintRun = defineSkill({
  name: 'dev.lint.run',
  category: 'dev',
  description:
    'Runs a linter command in the workspace (e.g. `npx eslint . -f json`) and parses its findings: eslint JSON, or compiler-style `file:line:col: message` text. Reports error and warning counts and the problems.',
  sideEffects: 'reversible',
  timeoutMs: 16 * 60_000,
  input: z.object({
    ...commandFields,
    format: z.enum(['auto', 'eslint-json', 'text']).default('auto'),
    timeoutMs: z.number().int().min(100).max(15 * 60_000).default(5 * 60_000),
  }),
  output: z.object({
    ...runOutputShape,
    ok: z.boolean().describe('No errors found and the linter did not crash or time out.'),
    errorCount: z.number().int(),
    warningCount: z.number().int(),
    problems: z.array(LintProblem).describe(`At most ${MAX_PROBLEMS} problems.`),
    problemsTruncated: z.boolean(),
  }),
  run: async (input, ctx) => {
    const { ws, cwd } = await prepare(ctx, input);
    const r = await runCommand({ command: input.command, args: input.args, cwd, workspace: ws, timeoutMs: input.timeoutMs, maxOutputBytes: 32 * MiB, env: input.env, network: input.network, signal: ctx.signal });
    const problems = lintFromOutput(r, input.format, (abs) => (path.isAbsolute(abs) ? path.relative(ws.dir, abs) : abs));
    const errorCount = problems.filter((p) => p.severity === 'error').length;
    // Linters exit 1 for findings; other codes (2 for eslint) mean the linter itself failed.
    const crashed = r.timedOut || r.exitCode === null || (r.exitCode > 1 && problems.length === 0);
    return {
      ...ranFor(r),
      ok: !crashed && errorCount === 0 && (r.exitCode === 0 || problems.length > 0),
      errorCount,
      warningCount: problems.length - errorCount,
      problems: problems.slice(0, MAX_PROBLEMS),
      problemsTruncated: problems.length > MAX_PROBLEMS,
    };
  },
});
