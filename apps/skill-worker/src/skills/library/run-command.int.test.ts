import { existsSync } from 'node:fs';
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SkillError } from '../skill.js';
import { detectIsolation, runCommand, Workspace } from './run-command.js';
import { tempRoot } from './test-helpers.js';

let cleanup: () => Promise<void>;
let ws: Workspace;
beforeAll(async () => {
  const t = await tempRoot();
  cleanup = t.cleanup;
  ws = await Workspace.open('run-command-test');
});
afterAll(async () => cleanup());

const run = (command: string, args: string[], extra: Partial<Parameters<typeof runCommand>[0]> = {}) =>
  runCommand({ command, args, cwd: ws.dir, workspace: ws, timeoutMs: 10_000, maxOutputBytes: 1 << 20, ...extra });

describe('runCommand', () => {
  it('runs a program and returns its exit code and output', async () => {
    const r = await run('sh', ['-c', 'echo out; echo err >&2; exit 3']);
    expect(r).toMatchObject({ exitCode: 3, signal: null, stdout: 'out\n', stderr: 'err\n', truncated: false, timedOut: false });
  });

  it('passes arguments literally: no shell interpolation', async () => {
    const r = await run('printf', ['%s\\n', '$(touch pwned)', '; rm -rf .', '`touch pwned2`', '$HOME', '*']);
    expect(r.stdout).toBe('$(touch pwned)\n; rm -rf .\n`touch pwned2`\n$HOME\n*\n');
    expect(existsSync(path.join(ws.dir, 'pwned'))).toBe(false);
    expect(existsSync(path.join(ws.dir, 'pwned2'))).toBe(false);
  });

  it('builds the environment from the allow-list only', async () => {
    process.env.STEWARD_SECRET_FOR_TEST = 'leak';
    try {
      const r = await run('env', [], { env: { EXTRA_VAR: 'yes' } });
      const vars = Object.fromEntries(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
      expect(Object.keys(vars).sort()).toEqual(['EXTRA_VAR', 'HOME', 'LANG', 'PATH']);
      expect(vars.HOME).toBe(ws.dir);
      expect(vars.STEWARD_SECRET_FOR_TEST).toBeUndefined();
    } finally {
      delete process.env.STEWARD_SECRET_FOR_TEST;
    }
  });

  it('refuses dangerous environment variables', async () => {
    await expect(run('true', [], { env: { LD_PRELOAD: '/x.so' } })).rejects.toMatchObject({ code: 'env_not_allowed' });
    await expect(run('true', [], { env: { PATH: '/tmp' } })).rejects.toMatchObject({ code: 'env_not_allowed' });
  });

  it('kills the whole process group on timeout', async () => {
    const pidFile = path.join(ws.dir, 'child.pid');
    const t0 = Date.now();
    const r = await run('sh', ['-c', `sleep 30 & echo $! > ${pidFile}; sleep 30`], { timeoutMs: 300, killGraceMs: 500 });
    expect(r.timedOut).toBe(true);
    expect(r.exitCode).toBeNull();
    expect(Date.now() - t0).toBeLessThan(5_000);
    const { readFile } = await import('node:fs/promises');
    const childPid = Number((await readFile(pidFile, 'utf8')).trim());
    await new Promise((res) => setTimeout(res, 200));
    // The background child is gone too (or a zombie waiting for a reaper: it no longer runs).
    const state = await readFile(`/proc/${childPid}/status`, 'utf8').then((t) => /State:\s+(\w)/.exec(t)?.[1], () => 'gone');
    expect(['gone', 'Z', 'X']).toContain(state);
  });

  it('escalates to SIGKILL when SIGTERM is ignored', async () => {
    const t0 = Date.now();
    const r = await run('sh', ['-c', "trap '' TERM; while true; do sleep 0.05; done"], { timeoutMs: 200, killGraceMs: 300 });
    expect(r.timedOut).toBe(true);
    expect(r.signal).toBe('SIGKILL');
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it('stops on abort and rejects with the abort reason', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('cancelled')), 200);
    await expect(run('sleep', ['30'], { signal: ac.signal })).rejects.toThrow('cancelled');
  });

  it('caps output and marks it truncated', async () => {
    const r = await run('sh', ['-c', 'head -c 100000 /dev/zero | tr "\\0" a'], { maxOutputBytes: 1000 });
    expect(r.stdout.length).toBe(1000);
    expect(r.truncated).toBe(true);
    expect(r.exitCode).toBe(0);
  });

  it('writes stdin to the program', async () => {
    const r = await run('cat', [], { stdin: 'hello' });
    expect(r.stdout).toBe('hello');
  });

  it('reports a missing program as command_not_found', async () => {
    await expect(run('no-such-program-xyz', [])).rejects.toMatchObject({ code: 'command_not_found' });
  });

  it('refuses a cwd outside the workspace', async () => {
    await expect(run('true', [], { cwd: '/tmp' })).rejects.toBeInstanceOf(SkillError);
  });

  it('cuts the network when asked and the machine can', async () => {
    const iso = await detectIsolation();
    if (!iso.unshareNet) {
      await expect(run('true', [], { network: false })).rejects.toMatchObject({ code: 'isolation_unavailable' });
      return;
    }
    const r = await run('cat', ['/proc/self/net/dev'], { network: false });
    expect(r.isolation.network).toBe('none');
    const ifaces = r.stdout.split('\n').slice(2).filter(Boolean).map((l) => l.trim().split(':')[0]);
    expect(ifaces).toEqual(['lo']);
  });
});

describe('Workspace', () => {
  it('is one directory per key, stable across calls, and separate per key', async () => {
    const a = await Workspace.open('k1');
    const b = await Workspace.open('k1');
    const c = await Workspace.open('k2');
    expect(a.dir).toBe(b.dir);
    expect(a.dir).not.toBe(c.dir);
    const named = await Workspace.forSkill({ idempotencyKey: 'k3', tenantId: 'acme' }, 'shared');
    expect(path.basename(named.dir)).toMatch(/^named-[0-9a-f]{16}-shared$/);
    expect((await Workspace.forSkill({ idempotencyKey: 'k4', tenantId: 'acme' }, 'shared')).dir).toBe(named.dir);
    // Another tenant naming the same workspace gets its own directory.
    expect((await Workspace.forSkill({ idempotencyKey: 'k3', tenantId: 'globex' }, 'shared')).dir).not.toBe(named.dir);
  });

  it('resolves paths inside and refuses escapes', async () => {
    expect(await ws.resolve('a/b.txt')).toBe(path.join(ws.dir, 'a/b.txt'));
    expect(await ws.resolve('a/../b.txt')).toBe(path.join(ws.dir, 'b.txt'));
    await expect(ws.resolve('../outside')).rejects.toMatchObject({ code: 'path_outside_workspace' });
    await expect(ws.resolve('a/../../x')).rejects.toMatchObject({ code: 'path_outside_workspace' });
    await expect(ws.resolve('/etc/passwd')).rejects.toMatchObject({ code: 'path_outside_workspace' });
    await expect(ws.resolve('x\0y')).rejects.toMatchObject({ code: 'path_invalid' });
  });

  it('refuses symlinks that point out, and follows those that stay in', async () => {
    await mkdir(path.join(ws.dir, 'inside'), { recursive: true });
    await writeFile(path.join(ws.dir, 'inside/f.txt'), 'x');
    await symlink('/etc', path.join(ws.dir, 'out-link'));
    await symlink(path.join(ws.dir, 'inside'), path.join(ws.dir, 'in-link'));
    await expect(ws.resolve('out-link/passwd')).rejects.toMatchObject({ code: 'path_outside_workspace' });
    await expect(ws.resolve('out-link')).rejects.toMatchObject({ code: 'path_outside_workspace' });
    await expect(ws.resolve('out-link/new-file')).rejects.toMatchObject({ code: 'path_outside_workspace' });
    expect(await ws.resolve('in-link/f.txt')).toBe(path.join(ws.dir, 'inside/f.txt'));
    expect(await readdir(ws.dir)).toContain('inside');
  });
});
