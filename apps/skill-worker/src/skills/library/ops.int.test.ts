import { symlink } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesList, filesRead, filesWrite, wait } from './ops.js';
import { Workspace } from './run-command.js';
import { call, ctx, tempRoot } from './test-helpers.js';

let cleanup: () => Promise<void>;
beforeAll(async () => {
  cleanup = (await tempRoot()).cleanup;
});
afterAll(async () => cleanup());

describe('ops.wait', () => {
  it('waits the given time', async () => {
    const r = await call(wait, { ms: 50 });
    expect(r.waitedMs).toBeGreaterThanOrEqual(45);
  });
  it('waits until a time, and refuses both or neither', async () => {
    const r = await call(wait, { until: new Date(Date.now() + 50).toISOString() });
    expect(r.waitedMs).toBeLessThan(1_000);
    await expect(call(wait, {})).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(call(wait, { until: new Date(Date.now() + 3_600_000).toISOString() })).rejects.toMatchObject({ code: 'invalid_input' });
  });
  it('stops on abort', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('cancelled')), 50);
    await expect(call(wait, { ms: 60_000 }, ctx('w', ac.signal))).rejects.toThrow();
  });
});

describe('ops.files', () => {
  const c = ctx('files-key');
  it('writes, reads and lists inside the invocation workspace', async () => {
    expect(await call(filesWrite, { path: 'dir/a.txt', content: 'hello' }, c)).toEqual({ path: 'dir/a.txt', bytesWritten: 5, size: 5, changed: true });
    expect(await call(filesRead, { path: 'dir/a.txt' }, c)).toEqual({ content: 'hello', size: 5, truncated: false });
    expect(await call(filesRead, { path: 'dir/a.txt', maxBytes: 2, encoding: 'base64' }, c)).toEqual({ content: Buffer.from('he').toString('base64'), size: 5, truncated: true });
    await call(filesWrite, { path: '.hidden', content: '' }, c);
    const list = await call(filesList, { recursive: true }, c);
    expect(list.entries.map((e) => [e.path, e.type])).toEqual([['dir', 'directory'], ['dir/a.txt', 'file']]);
    expect((await call(filesList, { includeHidden: true }, c)).entries.map((e) => e.path)).toEqual(['.hidden', 'dir']);
  });

  it('is private per key: another key does not see the files', async () => {
    await expect(call(filesRead, { path: 'dir/a.txt' }, ctx('other-key'))).rejects.toMatchObject({ code: 'not_found' });
  });

  it('append is not repeated on retry; create accepts identical content only', async () => {
    const k = ctx('append-key');
    await call(filesWrite, { path: 'log.txt', content: 'one\n', mode: 'append' }, k);
    const retry = await call(filesWrite, { path: 'log.txt', content: 'one\n', mode: 'append' }, { ...k, attempt: 2 });
    expect(retry.changed).toBe(false);
    expect((await call(filesRead, { path: 'log.txt' }, k)).content).toBe('one\n');
    await call(filesWrite, { path: 'new.txt', content: 'x', mode: 'create' }, k);
    expect((await call(filesWrite, { path: 'new.txt', content: 'x', mode: 'create' }, k)).changed).toBe(false);
    await expect(call(filesWrite, { path: 'new.txt', content: 'y', mode: 'create' }, k)).rejects.toMatchObject({ code: 'file_exists' });
  });

  it('refuses to read or write outside the workspace, also through symlinks', async () => {
    await expect(call(filesRead, { path: '../../../etc/passwd' }, c)).rejects.toMatchObject({ code: 'path_outside_workspace' });
    await expect(call(filesWrite, { path: '/tmp/evil', content: 'x' }, c)).rejects.toMatchObject({ code: 'path_outside_workspace' });
    const ws = await Workspace.open('files-key');
    await symlink('/etc', path.join(ws.dir, 'etc-link'));
    await expect(call(filesRead, { path: 'etc-link/hostname' }, c)).rejects.toMatchObject({ code: 'path_outside_workspace' });
    await expect(call(filesWrite, { path: 'etc-link/evil', content: 'x' }, c)).rejects.toMatchObject({ code: 'path_outside_workspace' });
    await expect(call(filesList, { path: 'etc-link' }, c)).rejects.toMatchObject({ code: 'path_outside_workspace' });
  });
});
