/**
 * The one way library skills run processes, and the per-invocation workspace they run them in.
 *
 * What IS provided:
 * - `spawn` with `shell: false`: arguments reach the program as-is, nothing is interpolated by a shell.
 * - An environment built only from an allow-list: PATH, LANG, HOME (= the workspace) plus the variables the caller
 *   passes explicitly (never LD_* / DYLD_* / NODE_OPTIONS); nothing else of the worker's environment leaks in.
 * - The program runs in its own process group; on timeout or abort the whole group gets SIGTERM, then SIGKILL after
 *   a grace period, and any stragglers left in the group are killed when the program exits.
 * - stdout and stderr are each capped at `maxOutputBytes` (the rest is drained and dropped, `truncated` is set).
 * - A workspace directory per idempotency key (or per explicit name) under a configurable root; path arguments that
 *   skills resolve through `Workspace.resolve` cannot leave it (`..`, absolute paths and symlinks pointing out are refused).
 * - Where the machine has them (detected once, never required): `prlimit` caps core dumps, file size, open files and
 *   CPU seconds; `unshare -n` (or `unshare -r -n` when unprivileged) gives the program an empty network namespace
 *   when a skill asks for `network: false`. The result says which of these were applied.
 *
 * What is NOT provided:
 * - No filesystem sandbox: the program runs as the worker's user and can read and write whatever that user can;
 *   only the cwd and the paths skills resolve are confined to the workspace (and that check has a TOCTOU window).
 * - No memory or process-count limit, no seccomp, no container; network is open unless `network: false` is asked.
 * - Workspaces are not garbage-collected and, with a shared name, are shared by every caller that uses that name.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { access, lstat, mkdir, realpath } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { SkillError } from '../skill.js';

// ---------------------------------------------------------------------------------------------------------------
// Workspace

let configuredRoot: string | undefined;

/** Sets where workspaces live (the worker may call this at start-up); else SKILL_WORKSPACE_ROOT, else the tmpdir. */
export function configureWorkspaceRoot(root: string | undefined): void {
  configuredRoot = root;
}

export function workspaceRoot(): string {
  return path.resolve(configuredRoot ?? process.env.SKILL_WORKSPACE_ROOT ?? path.join(os.tmpdir(), 'steward-workspaces'));
}

export const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

const WORKSPACE_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** The optional field every workspace-using skill accepts. */
export const workspaceField = z
  .string()
  .regex(WORKSPACE_NAME)
  .optional()
  .describe('Name of a shared workspace (steps passing the same name see the same files); without it the workspace is private to this step run.');

const within = (root: string, p: string): boolean => p === root || p.startsWith(root + path.sep);

export class Workspace {
  private constructor(readonly dir: string) {}

  /** The workspace of a skill invocation: its own, or the tenant's shared one of that name. */
  static forSkill(ctx: { idempotencyKey: string; tenantId: string }, name?: string): Promise<Workspace> {
    return Workspace.open(ctx.idempotencyKey, name, workspaceRoot(), ctx.tenantId);
  }

  /**
   * The workspace of one invocation (by idempotency key) or a named shared one, created on demand. A named one is
   * kept per tenant: another tenant's step with the same name gets another directory.
   */
  static async open(idempotencyKey: string, name?: string, root = workspaceRoot(), tenantId = ''): Promise<Workspace> {
    const leaf = name ? `named-${sha256(tenantId).slice(0, 16)}-${name}` : `key-${sha256(idempotencyKey).slice(0, 32)}`;
    const dir = path.join(root, leaf);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return new Workspace(await realpath(dir));
  }

  /** Opens a workspace at an exact directory (tests, and callers that manage their own). */
  static async at(dir: string): Promise<Workspace> {
    await mkdir(dir, { recursive: true });
    return new Workspace(await realpath(dir));
  }

  /**
   * Resolves a workspace-relative path to an absolute one inside the workspace, following symlinks of the part that
   * exists; refuses absolute paths, NUL bytes and anything that ends up outside.
   */
  async resolve(rel: string): Promise<string> {
    if (rel.includes('\0')) throw new SkillError('path_invalid', 'path contains a NUL byte');
    if (path.isAbsolute(rel)) throw new SkillError('path_outside_workspace', `absolute paths are not allowed: ${rel}`);
    const target = path.resolve(this.dir, rel);
    if (!within(this.dir, target)) throw new SkillError('path_outside_workspace', `path leaves the workspace: ${rel}`);
    // Walk up to the deepest part that exists and check where it really points.
    let existing = target;
    const rest: string[] = [];
    for (;;) {
      try {
        await lstat(existing);
        break;
      } catch {
        rest.unshift(path.basename(existing));
        existing = path.dirname(existing);
      }
    }
    const real = path.join(await realpath(existing), ...rest);
    if (!within(this.dir, real)) throw new SkillError('path_outside_workspace', `path leaves the workspace through a symlink: ${rel}`);
    return real;
  }

  /** The path relative to the workspace, for outputs ('.' for the workspace itself). */
  relative(abs: string): string {
    return path.relative(this.dir, abs) || '.';
  }
}

/** Where a skill keeps small records of what it already did, outside any workspace so commands cannot touch it. */
export function ledgerDir(): string {
  return path.join(workspaceRoot(), '.ledger');
}

// ---------------------------------------------------------------------------------------------------------------
// Isolation detection

export interface Isolation {
  /** Path of prlimit when it works here. */
  prlimit: string | undefined;
  /** Args that put a command into a fresh network namespace, or undefined when the machine cannot. */
  unshareNet: string[] | undefined;
}

let isolation: Promise<Isolation> | undefined;

async function onPath(bin: string, searchPath = process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'): Promise<string | undefined> {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, bin);
    try {
      await access(p, fsConstants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

async function probe(command: string, args: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'ignore', shell: false, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    child.on('error', () => resolve(false));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(code === 0);
    });
  });
}

/** Detects once what this machine offers; SKILL_ISOLATION=off turns it all off. */
export function detectIsolation(): Promise<Isolation> {
  isolation ??= (async () => {
    if (process.env.SKILL_ISOLATION === 'off') return { prlimit: undefined, unshareNet: undefined };
    const prlimitBin = await onPath('prlimit');
    const prlimit = prlimitBin !== undefined && (await probe(prlimitBin, ['--core=0', '--', 'true']));
    const unshareBin = await onPath('unshare');
    let unshareNet: string[] | undefined;
    if (unshareBin) {
      if (await probe(unshareBin, ['-n', '--', 'true'])) unshareNet = [unshareBin, '-n', '--'];
      else if (await probe(unshareBin, ['-r', '-n', '--', 'true'])) unshareNet = [unshareBin, '-r', '-n', '--'];
    }
    return { prlimit: prlimit ? prlimitBin : undefined, unshareNet };
  })();
  return isolation;
}

// ---------------------------------------------------------------------------------------------------------------
// Command runner

export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const FORBIDDEN_ENV = /^(LD_|DYLD_)|^(NODE_OPTIONS|PATH|HOME|BASH_ENV|ENV)$/;

/** The zod field for caller-passed environment variables. */
export const envField = z
  .record(z.string().regex(ENV_NAME), z.string())
  .refine((e) => Object.keys(e).every((k) => !FORBIDDEN_ENV.test(k)), 'PATH, HOME, NODE_OPTIONS, BASH_ENV, ENV and LD_*/DYLD_* cannot be set')
  .default({})
  .describe('Extra environment variables; the process sees only PATH, HOME (the workspace), LANG and these.');

export interface RunCommandOptions {
  command: string;
  args: string[];
  /** Absolute directory inside the workspace (resolve it with `Workspace.resolve`). */
  cwd: string;
  workspace: Workspace;
  timeoutMs: number;
  maxOutputBytes: number;
  env?: Record<string, string>;
  stdin?: string;
  signal?: AbortSignal;
  /** Run in an empty network namespace; fails when the machine cannot provide one. */
  network?: boolean;
  /** How long after SIGTERM the group gets SIGKILL. */
  killGraceMs?: number;
}

export interface RunCommandResult {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  truncated: boolean;
  timedOut: boolean;
  durationMs: number;
  isolation: { prlimit: boolean; network: 'open' | 'none' };
}

export const runResultShape = {
  exitCode: z.number().int().nullable().describe('Exit code; null when killed by a signal.'),
  signal: z.string().nullable().describe('Signal that ended the process, if any.'),
  stdout: z.string(),
  stderr: z.string(),
  truncated: z.boolean().describe('True when stdout or stderr went past maxOutputBytes and was cut.'),
  timedOut: z.boolean(),
  durationMs: z.number(),
  isolation: z.object({ prlimit: z.boolean(), network: z.enum(['open', 'none']) }),
};

function buildEnv(ws: Workspace, extra: Record<string, string> | undefined): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: ws.dir,
    LANG: process.env.LANG ?? 'C.UTF-8',
  };
  for (const [k, v] of Object.entries(extra ?? {})) {
    if (!ENV_NAME.test(k) || FORBIDDEN_ENV.test(k)) throw new SkillError('env_not_allowed', `environment variable ${k} cannot be set`);
    env[k] = v;
  }
  return env;
}

const killGroup = (pid: number, sig: NodeJS.Signals): void => {
  try {
    process.kill(-pid, sig);
  } catch {
    // group already gone
  }
};

/** Runs one program without a shell, confined as described at the top of this file. Non-zero exits are results, not errors. */
export async function runCommand(o: RunCommandOptions): Promise<RunCommandResult> {
  o.signal?.throwIfAborted();
  if (!within(o.workspace.dir, o.cwd)) throw new SkillError('path_outside_workspace', 'cwd must be inside the workspace');
  if (o.command.length === 0 || o.command.includes('\0')) throw new SkillError('command_invalid', 'command is empty or contains NUL');
  const iso = await detectIsolation();
  const env = buildEnv(o.workspace, o.env);
  // Resolved here so a missing program is reported the same way with or without the isolation wrappers.
  const resolved = o.command.includes('/') ? path.resolve(o.cwd, o.command) : await onPath(o.command, env.PATH);
  if (resolved === undefined) throw new SkillError('command_not_found', `command not found: ${o.command}`);
  try {
    await access(resolved, fsConstants.X_OK);
  } catch {
    throw new SkillError('command_not_found', `command not found or not executable: ${o.command}`);
  }
  const prefix: string[] = [];
  if (o.network === false) {
    if (!iso.unshareNet) throw new SkillError('isolation_unavailable', 'network: false was asked but this machine cannot create a network namespace');
    prefix.push(...iso.unshareNet);
  }
  if (iso.prlimit) {
    const cpuSeconds = Math.ceil(o.timeoutMs / 1000) + 10;
    prefix.unshift(iso.prlimit, '--core=0', `--cpu=${cpuSeconds}`, '--fsize=1073741824', '--nofile=4096', '--');
  }
  const [bin, ...pre] = prefix.length > 0 ? prefix : [resolved];
  const args = prefix.length > 0 ? [...pre, resolved, ...o.args] : o.args;

  const started = Date.now();
  const child = spawn(bin!, args, {
    cwd: o.cwd,
    env,
    shell: false,
    detached: true, // own process group, so the whole tree can be killed
    stdio: [o.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    windowsHide: true,
  });

  const out = { stdout: [] as Buffer[], stderr: [] as Buffer[], sizes: { stdout: 0, stderr: 0 }, truncated: false };
  const collect = (which: 'stdout' | 'stderr') => (chunk: Buffer) => {
    const room = o.maxOutputBytes - out.sizes[which];
    if (room <= 0) {
      out.truncated = true;
      return;
    }
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    if (part.length < chunk.length) out.truncated = true;
    out[which].push(part);
    out.sizes[which] += part.length;
  };
  child.stdout?.on('data', collect('stdout'));
  child.stderr?.on('data', collect('stderr'));
  if (child.stdin) {
    child.stdin.on('error', () => undefined); // a program that does not read stdin closes it early
    child.stdin.end(o.stdin);
  }

  let timedOut = false;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = (): void => {
    if (child.pid === undefined || killTimer) return;
    killGroup(child.pid, 'SIGTERM');
    killTimer = setTimeout(() => child.pid !== undefined && killGroup(child.pid, 'SIGKILL'), o.killGraceMs ?? 2_000);
  };
  const timer = setTimeout(() => {
    timedOut = true;
    stop();
  }, o.timeoutMs);
  const onAbort = (): void => stop();
  o.signal?.addEventListener('abort', onAbort, { once: true });

  try {
    const { code, sig } = await new Promise<{ code: number | null; sig: NodeJS.Signals | null }>((resolve, reject) => {
      child.once('error', (err: NodeJS.ErrnoException) => {
        reject(
          err.code === 'ENOENT'
            ? new SkillError('command_not_found', `command not found: ${o.command}`)
            : new SkillError('spawn_failed', `could not start ${o.command}: ${err.message}`),
        );
      });
      // Stragglers that keep the pipes open are killed as soon as the program itself exits.
      child.once('exit', () => child.pid !== undefined && killGroup(child.pid, 'SIGKILL'));
      child.once('close', (c, s) => resolve({ code: c, sig: s }));
    });
    o.signal?.throwIfAborted();
    return {
      exitCode: code,
      signal: sig,
      stdout: Buffer.concat(out.stdout).toString('utf8'),
      stderr: Buffer.concat(out.stderr).toString('utf8'),
      truncated: out.truncated,
      timedOut,
      durationMs: Date.now() - started,
      isolation: { prlimit: iso.prlimit !== undefined, network: o.network === false ? 'none' : 'open' },
    };
  } finally {
    clearTimeout(timer);
    clearTimeout(killTimer);
    o.signal?.removeEventListener('abort', onAbort);
  }
}

/** Throws a non-retryable SkillError when a command failed; returns the result otherwise. */
export function expectSuccess(r: RunCommandResult, what: string): RunCommandResult {
  if (r.timedOut) throw new SkillError('timeout', `${what} timed out after ${r.durationMs} ms`, true);
  if (r.exitCode !== 0) throw new SkillError('command_failed', `${what} failed (exit ${r.exitCode ?? r.signal}): ${(r.stderr || r.stdout).trim().slice(0, 2000)}`);
  return r;
}
