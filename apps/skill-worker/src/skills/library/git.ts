// Git skills: real `git` through the safe runner, in the invocation workspace, with no hooks, no system config and no prompts.
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { defineSkill, SkillError, type SkillContext } from '../skill.js';
import { expectSuccess, runCommand, Workspace, workspaceField, type RunCommandResult } from './run-command.js';

const GIT_TIMEOUT_MS = 60_000;
const GIT_MAX_OUTPUT = 10 * 1024 * 1024;
export const KEY_TRAILER = 'Steward-Idempotency-Key';

const repoPath = z.string().default('.').describe('Repository directory, relative to the workspace.');
/** Refs and branch names: never an option (leading '-'), never whitespace or control characters. */
const refName = z.string().min(1).max(200).regex(/^[^-\s\0~^:?*[\\][^\s\0~^:?*[\\]*$/, 'not a valid ref name');

export interface GitCall {
  ws: Workspace;
  cwd: string;
  signal: AbortSignal;
  env?: Record<string, string>;
  stdin?: string;
  timeoutMs?: number;
}

/** Runs git with settings that make it safe and deterministic in a workspace. */
export async function git(c: GitCall, args: string[]): Promise<RunCommandResult> {
  return runCommand({
    command: 'git',
    // No hooks and no fsmonitor: files in the workspace must not make git run programs.
    args: ['-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false', '-c', 'protocol.allow=never', '-c', 'protocol.file.allow=always', '-c', 'color.ui=false', ...args],
    cwd: c.cwd,
    workspace: c.ws,
    timeoutMs: c.timeoutMs ?? GIT_TIMEOUT_MS,
    maxOutputBytes: GIT_MAX_OUTPUT,
    env: { GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', ...c.env },
    ...(c.stdin !== undefined ? { stdin: c.stdin } : {}),
    signal: c.signal,
  });
}

async function repoCall(ctx: SkillContext, input: { workspace?: string | undefined; path: string }): Promise<GitCall> {
  const ws = await Workspace.forSkill(ctx, input.workspace);
  const cwd = await ws.resolve(input.path);
  const st = await stat(cwd).catch(() => undefined);
  if (!st?.isDirectory()) throw new SkillError('not_found', `no such directory in the workspace: ${input.path}`);
  return { ws, cwd, signal: ctx.signal };
}

async function ensureRepo(c: GitCall): Promise<void> {
  const r = await git(c, ['rev-parse', '--is-inside-work-tree']);
  if (r.exitCode !== 0) throw new SkillError('not_a_repository', `not a git repository: ${c.ws.relative(c.cwd)}`);
}

// ------------------------------------------------------------------------------------------------ status

const FileStatus = z.object({
  path: z.string(),
  origPath: z.string().optional().describe('Former path of a rename or copy.'),
  index: z.string().describe('Porcelain status letter for the index (staged), e.g. M, A, D, R, ?, space.'),
  worktree: z.string().describe('Porcelain status letter for the work tree.'),
});

export function parseStatus(z0: string): { branch: string | null; upstream: string | null; ahead: number; behind: number; files: z.infer<typeof FileStatus>[] } {
  const parts = z0.split('\0');
  let branch: string | null = null;
  let upstream: string | null = null;
  let ahead = 0;
  let behind = 0;
  const files: z.infer<typeof FileStatus>[] = [];
  for (let i = 0; i < parts.length; i++) {
    const e = parts[i]!;
    if (e === '') continue;
    if (e.startsWith('## ')) {
      const head = e.slice(3);
      const m = /^(?:No commits yet on |Initial commit on )?(.+?)(?:\.\.\.(\S+))?(?: \[(.*)\])?$/.exec(head);
      branch = m?.[1] === 'HEAD (no branch)' ? null : (m?.[1] ?? null);
      upstream = m?.[2] ?? null;
      ahead = Number(/ahead (\d+)/.exec(m?.[3] ?? '')?.[1] ?? 0);
      behind = Number(/behind (\d+)/.exec(m?.[3] ?? '')?.[1] ?? 0);
      continue;
    }
    const index = e[0] ?? ' ';
    const worktree = e[1] ?? ' ';
    const file = { path: e.slice(3), index, worktree };
    if (index === 'R' || index === 'C') files.push({ ...file, origPath: parts[++i] ?? '' });
    else files.push(file);
  }
  return { branch, upstream, ahead, behind, files };
}

export const gitStatus = defineSkill({
  name: 'dev.git.status',
  category: 'dev',
  description: 'Reports the branch, upstream, ahead/behind counts and changed files (staged, unstaged, untracked) of a git repository in the workspace.',
  sideEffects: 'none',
  timeoutMs: GIT_TIMEOUT_MS,
  input: z.object({ workspace: workspaceField, path: repoPath }),
  output: z.object({
    branch: z.string().nullable().describe('Current branch; null when HEAD is detached.'),
    upstream: z.string().nullable(),
    ahead: z.number().int(),
    behind: z.number().int(),
    clean: z.boolean(),
    files: z.array(FileStatus),
  }),
  run: async (input, ctx) => {
    const c = await repoCall(ctx, input);
    await ensureRepo(c);
    const r = expectSuccess(await git(c, ['status', '--porcelain=v1', '-z', '--branch', '--untracked-files=all']), 'git status');
    const s = parseStatus(r.stdout);
    return { ...s, clean: s.files.length === 0 };
  },
});

// ------------------------------------------------------------------------------------------------ diff

export const gitDiff = defineSkill({
  name: 'dev.git.diff',
  category: 'dev',
  description: 'Returns the unified diff and per-file line counts of a repository: work tree vs index, staged (index vs HEAD), or against a given ref.',
  sideEffects: 'none',
  timeoutMs: GIT_TIMEOUT_MS,
  input: z.object({
    workspace: workspaceField,
    path: repoPath,
    staged: z.boolean().default(false).describe('Diff the index against HEAD instead of the work tree against the index.'),
    ref: refName.optional().describe('Compare against this commit/branch instead.'),
    paths: z.array(z.string().min(1)).default([]).describe('Limit to these paths (relative to the repository).'),
    context: z.number().int().min(0).max(100).default(3).describe('Context lines around changes.'),
  }),
  output: z.object({
    diff: z.string(),
    files: z.array(z.object({ path: z.string(), added: z.number().int().nullable(), deleted: z.number().int().nullable(), binary: z.boolean() })),
  }),
  run: async (input, ctx) => {
    const c = await repoCall(ctx, input);
    await ensureRepo(c);
    const base = ['diff', '--no-ext-diff', '--no-textconv', `-U${input.context}`, ...(input.staged ? ['--cached'] : []), ...(input.ref ? [input.ref] : [])];
    const diff = expectSuccess(await git(c, [...base, '--', ...input.paths]), 'git diff');
    const num = expectSuccess(await git(c, [...base, '--numstat', '-z', '--', ...input.paths]), 'git diff --numstat');
    const files: { path: string; added: number | null; deleted: number | null; binary: boolean }[] = [];
    const parts = num.stdout.split('\0');
    for (let i = 0; i < parts.length; i++) {
      const m = /^(-|\d+)\t(-|\d+)\t(.*)$/s.exec(parts[i]!);
      if (!m) continue;
      // A rename has an empty path here followed by the old and new paths.
      const p = m[3] === '' ? (i += 2, parts[i] ?? '') : m[3]!;
      const binary = m[1] === '-';
      files.push({ path: p, added: binary ? null : Number(m[1]), deleted: binary ? null : Number(m[2]), binary });
    }
    return { diff: diff.stdout, files };
  },
});

// ------------------------------------------------------------------------------------------------ commit

const author = z
  .object({ name: z.string().min(1).max(200).default('Steward'), email: z.string().min(3).max(320).default('steward@localhost') })
  .default({ name: 'Steward', email: 'steward@localhost' });

export const gitCommit = defineSkill({
  name: 'dev.git.commit',
  category: 'dev',
  description: `Stages the given paths (default: all changes) and commits them. Idempotent: the commit carries a "${KEY_TRAILER}" trailer and a retry with the same key returns the existing commit instead of committing again.`,
  sideEffects: 'reversible',
  timeoutMs: GIT_TIMEOUT_MS,
  input: z.object({
    workspace: workspaceField,
    path: repoPath,
    message: z.string().min(1).max(100_000),
    paths: z.array(z.string().min(1)).default([]).describe('Paths to stage; empty stages every change (git add -A).'),
    author,
    allowEmpty: z.boolean().default(false),
  }),
  output: z.object({ commit: z.string(), created: z.boolean().describe('False when a commit with this idempotency key already existed.'), branch: z.string().nullable() }),
  run: async (input, ctx) => {
    const c = await repoCall(ctx, input);
    await ensureRepo(c);
    const branchOf = async (): Promise<string | null> => {
      const b = await git(c, ['symbolic-ref', '--quiet', '--short', 'HEAD']);
      return b.exitCode === 0 ? b.stdout.trim() : null;
    };
    const trailer = `${KEY_TRAILER}: ${ctx.idempotencyKey}`;
    const found = await git(c, ['log', '--all', '--fixed-strings', `--grep=${trailer}`, '--format=%H', '-n', '1']);
    // `git log` fails on a repository without commits: then nothing can have been committed yet.
    if (found.exitCode === 0 && found.stdout.trim()) return { commit: found.stdout.trim(), created: false, branch: await branchOf() };
    expectSuccess(await git(c, input.paths.length ? ['add', '--', ...input.paths] : ['add', '-A']), 'git add');
    const staged = await git(c, ['diff', '--cached', '--quiet']);
    if (staged.exitCode === 0 && !input.allowEmpty) {
      const hasHead = (await git(c, ['rev-parse', '--verify', '--quiet', 'HEAD'])).exitCode === 0;
      if (hasHead) throw new SkillError('nothing_to_commit', 'there are no staged changes to commit');
    }
    const env = { GIT_AUTHOR_NAME: input.author.name, GIT_AUTHOR_EMAIL: input.author.email, GIT_COMMITTER_NAME: input.author.name, GIT_COMMITTER_EMAIL: input.author.email };
    expectSuccess(
      await git({ ...c, env, stdin: input.message }, ['commit', '--no-verify', '--allow-empty', '--cleanup=strip', '-F', '-', '--trailer', trailer]),
      'git commit',
    );
    const head = expectSuccess(await git(c, ['rev-parse', 'HEAD']), 'git rev-parse');
    return { commit: head.stdout.trim(), created: true, branch: await branchOf() };
  },
});

// ------------------------------------------------------------------------------------------------ branch

export const gitBranch = defineSkill({
  name: 'dev.git.branch',
  category: 'dev',
  description: 'Lists branches, or creates a branch (from HEAD or `from`) and optionally switches to it; creating an existing branch is not an error (created: false).',
  sideEffects: 'reversible',
  timeoutMs: GIT_TIMEOUT_MS,
  input: z.object({
    workspace: workspaceField,
    path: repoPath,
    name: refName.optional().describe('Branch to create or switch to; omit to only list.'),
    from: refName.optional().describe('Start point of a new branch (default HEAD).'),
    checkout: z.boolean().default(false).describe('Switch to the branch.'),
  }),
  output: z.object({ current: z.string().nullable(), branches: z.array(z.string()), created: z.boolean() }),
  run: async (input, ctx) => {
    const c = await repoCall(ctx, input);
    await ensureRepo(c);
    let created = false;
    if (input.name) {
      const ok = await git(c, ['check-ref-format', '--branch', input.name]);
      if (ok.exitCode !== 0) throw new SkillError('invalid_branch_name', `not a valid branch name: ${input.name}`);
      const exists = (await git(c, ['rev-parse', '--verify', '--quiet', `refs/heads/${input.name}`])).exitCode === 0;
      if (!exists) {
        const hasHead = (await git(c, ['rev-parse', '--verify', '--quiet', 'HEAD'])).exitCode === 0;
        if (!hasHead && !input.from) {
          // An unborn repository: the branch can only come into being by pointing HEAD at it.
          expectSuccess(await git(c, ['symbolic-ref', 'HEAD', `refs/heads/${input.name}`]), 'git symbolic-ref');
        } else {
          expectSuccess(await git(c, ['branch', '--', input.name, ...(input.from ? [input.from] : [])]), 'git branch');
          created = true;
        }
      }
      if (input.checkout) expectSuccess(await git(c, ['checkout', '--quiet', input.name, '--']), 'git checkout');
    }
    const list = expectSuccess(await git(c, ['for-each-ref', '--format=%(refname:short)', 'refs/heads/']), 'git for-each-ref');
    const cur = await git(c, ['symbolic-ref', '--quiet', '--short', 'HEAD']);
    return { current: cur.exitCode === 0 ? cur.stdout.trim() : null, branches: list.stdout.split('\n').filter(Boolean), created };
  },
});

// ------------------------------------------------------------------------------------------------ init / clone

export const gitInit = defineSkill({
  name: 'dev.git.init',
  category: 'dev',
  description: 'Creates (or re-initialises, harmlessly) a git repository in a workspace directory, with the given initial branch.',
  sideEffects: 'reversible',
  timeoutMs: GIT_TIMEOUT_MS,
  input: z.object({ workspace: workspaceField, path: repoPath, initialBranch: refName.default('main') }),
  output: z.object({ path: z.string(), created: z.boolean().describe('False when it was already a repository.') }),
  run: async (input, ctx) => {
    const ws = await Workspace.forSkill(ctx, input.workspace);
    const dir = await ws.resolve(input.path);
    await mkdir(dir, { recursive: true });
    const c = { ws, cwd: dir, signal: ctx.signal };
    const before = await git(c, ['rev-parse', '--show-toplevel']);
    const already = before.exitCode === 0 && path.resolve(before.stdout.trim()) === dir;
    if (!already) expectSuccess(await git(c, ['init', '--quiet', `--initial-branch=${input.initialBranch}`]), 'git init');
    return { path: ws.relative(dir), created: !already };
  },
});

/** Accepts only local filesystem paths: no URL schemes, no scp-like host:path, no options. */
function localSource(src: string): string {
  if (src.startsWith('-') || /^[a-z][a-z0-9+.-]*:\/\//i.test(src) || /^[^/]*:/.test(src)) throw new SkillError('source_not_local', `only local repository paths can be cloned: ${src}`);
  if (!path.isAbsolute(src)) throw new SkillError('source_not_local', 'the source must be an absolute local path');
  return src;
}

export const gitClone = defineSkill({
  name: 'dev.git.clone',
  category: 'dev',
  description: 'Clones a repository from a local absolute path (no network URLs) into a workspace directory; a retry finds the existing clone and does not clone again.',
  sideEffects: 'reversible',
  timeoutMs: 5 * 60_000,
  input: z.object({
    workspace: workspaceField,
    source: z.string().min(1).describe('Absolute path of a local repository.'),
    path: z.string().min(1).default('repo').describe('Destination directory in the workspace; must not exist or be empty.'),
    branch: refName.optional(),
    depth: z.number().int().min(1).optional(),
  }),
  output: z.object({ path: z.string(), head: z.string(), cloned: z.boolean() }),
  run: async (input, ctx) => {
    const source = localSource(input.source);
    const ws = await Workspace.forSkill(ctx, input.workspace);
    const dest = await ws.resolve(input.path);
    const c = { ws, cwd: ws.dir, signal: ctx.signal, timeoutMs: 5 * 60_000 };
    const existing = await stat(dest).catch(() => undefined);
    if (existing) {
      const url = await git({ ...c, cwd: dest }, ['config', '--get', 'remote.origin.url']);
      if (url.exitCode === 0 && path.resolve(url.stdout.trim()) === path.resolve(source)) {
        const head = expectSuccess(await git({ ...c, cwd: dest }, ['rev-parse', 'HEAD']), 'git rev-parse');
        return { path: ws.relative(dest), head: head.stdout.trim(), cloned: false };
      }
    }
    const args = ['clone', '--quiet', '--no-hardlinks', ...(input.branch ? ['--branch', input.branch] : []), ...(input.depth ? ['--depth', String(input.depth)] : []), '--', source, dest];
    // --depth is ignored for plain local paths; file:// makes it apply.
    if (input.depth) args[args.length - 2] = `file://${source}`;
    expectSuccess(await git(c, args), 'git clone');
    const head = expectSuccess(await git({ ...c, cwd: dest }, ['rev-parse', 'HEAD']), 'git rev-parse');
    return { path: ws.relative(dest), head: head.stdout.trim(), cloned: true };
  },
});

// ------------------------------------------------------------------------------------------------ log

export const gitLog = defineSkill({
  name: 'dev.git.log',
  category: 'dev',
  description: 'Lists the most recent commits (hash, author, date, subject) of a repository, optionally of one ref or limited to paths.',
  sideEffects: 'none',
  timeoutMs: GIT_TIMEOUT_MS,
  input: z.object({
    workspace: workspaceField,
    path: repoPath,
    ref: refName.optional(),
    limit: z.number().int().min(1).max(1000).default(20),
    paths: z.array(z.string().min(1)).default([]),
  }),
  output: z.object({ commits: z.array(z.object({ hash: z.string(), author: z.string(), email: z.string(), date: z.string(), subject: z.string() })) }),
  run: async (input, ctx) => {
    const c = await repoCall(ctx, input);
    await ensureRepo(c);
    if ((await git(c, ['rev-parse', '--verify', '--quiet', 'HEAD'])).exitCode !== 0 && !input.ref) return { commits: [] };
    const r = expectSuccess(await git(c, ['log', `-n${input.limit}`, '--format=%H%x1f%an%x1f%ae%x1f%aI%x1f%s%x1e', ...(input.ref ? [input.ref] : []), '--', ...input.paths]), 'git log');
    const commits = r.stdout
      .split('\x1e')
      .map((l) => l.trim())
      .filter(Boolean)
      .map((l) => {
        const [hash = '', a = '', email = '', date = '', subject = ''] = l.split('\x1f');
        return { hash, author: a, email, date, subject };
      });
    return { commits };
  },
});
