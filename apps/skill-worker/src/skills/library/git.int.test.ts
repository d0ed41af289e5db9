import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitBranch, gitClone, gitCommit, gitDiff, gitInit, gitLog, gitStatus, KEY_TRAILER } from './git.js';
import { Workspace } from './run-command.js';
import { call, ctx, tempRoot } from './test-helpers.js';

let cleanup: () => Promise<void>;
let root: string;
beforeAll(async () => {
  const t = await tempRoot();
  cleanup = t.cleanup;
  root = t.root;
});
afterAll(async () => cleanup());

const W = 'gitrepo';
const file = async (rel: string, text: string): Promise<void> => {
  const ws = await Workspace.forSkill({ idempotencyKey: 'x', tenantId: 'test' }, W);
  const abs = await ws.resolve(rel);
  await mkdir(path.dirname(abs), { recursive: true });
  await writeFile(abs, text);
};

describe('git skills against real git', () => {
  it('init creates a repository once', async () => {
    expect(await call(gitInit, { workspace: W, path: 'r' })).toEqual({ path: 'r', created: true });
    expect(await call(gitInit, { workspace: W, path: 'r' })).toEqual({ path: 'r', created: false });
  });

  it('status shows an unborn branch and untracked files', async () => {
    await file('r/a.txt', 'one\n');
    const s = await call(gitStatus, { workspace: W, path: 'r' });
    expect(s.branch).toBe('main');
    expect(s.clean).toBe(false);
    expect(s.files).toEqual([{ path: 'a.txt', index: '?', worktree: '?' }]);
  });

  it('commit is idempotent by key: a retry returns the same commit', async () => {
    const c = ctx('commit-key-1');
    const first = await call(gitCommit, { workspace: W, path: 'r', message: 'first commit' }, c);
    expect(first.created).toBe(true);
    expect(first.branch).toBe('main');
    await file('r/a.txt', 'one\ntwo\n');
    const retry = await call(gitCommit, { workspace: W, path: 'r', message: 'first commit' }, { ...c, attempt: 2 });
    expect(retry).toEqual({ ...first, created: false });
    const ws = await Workspace.forSkill({ idempotencyKey: 'x', tenantId: 'test' }, W);
    const body = execFileSync('git', ['log', '-1', '--format=%B'], { cwd: path.join(ws.dir, 'r') }).toString();
    expect(body).toContain(`${KEY_TRAILER}: commit-key-1`);
    expect(execFileSync('git', ['rev-list', '--count', 'HEAD'], { cwd: path.join(ws.dir, 'r') }).toString().trim()).toBe('1');
  });

  it('diff reports work tree changes with line counts; staged shows none yet', async () => {
    const d = await call(gitDiff, { workspace: W, path: 'r' });
    expect(d.diff).toContain('+two');
    expect(d.files).toEqual([{ path: 'a.txt', added: 1, deleted: 0, binary: false }]);
    expect((await call(gitDiff, { workspace: W, path: 'r', staged: true })).files).toEqual([]);
  });

  it('commit with another key commits the change; with nothing staged it fails clearly', async () => {
    const second = await call(gitCommit, { workspace: W, path: 'r', message: 'second', author: { name: 'Ada', email: 'ada@example.com' } }, ctx('commit-key-2'));
    expect(second.created).toBe(true);
    await expect(call(gitCommit, { workspace: W, path: 'r', message: 'third' }, ctx('commit-key-3'))).rejects.toMatchObject({ code: 'nothing_to_commit' });
    const log = await call(gitLog, { workspace: W, path: 'r' });
    expect(log.commits.map((c) => c.subject)).toEqual(['second', 'first commit']);
    expect(log.commits[0]).toMatchObject({ author: 'Ada', email: 'ada@example.com', hash: second.commit });
  });

  it('branch creates, switches and lists; an existing branch is reused', async () => {
    const b = await call(gitBranch, { workspace: W, path: 'r', name: 'feature/x', checkout: true });
    expect(b).toEqual({ current: 'feature/x', branches: ['feature/x', 'main'], created: true });
    expect((await call(gitBranch, { workspace: W, path: 'r', name: 'feature/x' })).created).toBe(false);
    expect((await call(gitBranch, { workspace: W, path: 'r' })).current).toBe('feature/x');
  });

  it('branch refuses names that look like options', async () => {
    await expect(call(gitBranch, { workspace: W, path: 'r', name: '--force' })).rejects.toThrow();
  });

  it('status on a directory that is not a repository fails clearly', async () => {
    await file('plain/x.txt', 'x');
    await expect(call(gitStatus, { workspace: W, path: 'plain' })).rejects.toMatchObject({ code: 'not_a_repository' });
  });

  it('clone copies a local repository once, and refuses URLs', async () => {
    const ws = await Workspace.forSkill({ idempotencyKey: 'x', tenantId: 'test' }, W);
    const source = path.join(ws.dir, 'r');
    const c = ctx('clone-key');
    const first = await call(gitClone, { source, path: 'copy' }, c);
    expect(first.cloned).toBe(true);
    expect(await call(gitClone, { source, path: 'copy' }, c)).toEqual({ ...first, cloned: false });
    await expect(call(gitClone, { source: 'https://example.com/x.git' })).rejects.toMatchObject({ code: 'source_not_local' });
    await expect(call(gitClone, { source: 'git@github.com:x/y.git' })).rejects.toMatchObject({ code: 'source_not_local' });
    await expect(call(gitClone, { source: '--upload-pack=touch /tmp/x' })).rejects.toMatchObject({ code: 'source_not_local' });
    expect(root).toBeTruthy();
  });

  it('does not run repository hooks', async () => {
    const ws = await Workspace.forSkill({ idempotencyKey: 'x', tenantId: 'test' }, W);
    const hook = path.join(ws.dir, 'r/.git/hooks/pre-commit');
    await writeFile(hook, `#!/bin/sh\ntouch ${path.join(ws.dir, 'hook-ran')}\nexit 1\n`, { mode: 0o755 });
    await file('r/b.txt', 'b\n');
    const r = await call(gitCommit, { workspace: W, path: 'r', message: 'with hook' }, ctx('hook-key'));
    expect(r.created).toBe(true);
    const { existsSync } = await import('node:fs');
    expect(existsSync(path.join(ws.dir, 'hook-ran'))).toBe(false);
  });
});
