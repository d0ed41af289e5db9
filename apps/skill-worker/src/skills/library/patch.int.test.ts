import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patchApply } from './patch.js';
import { Workspace } from './run-command.js';
import { call, tempRoot } from './test-helpers.js';

let cleanup: () => Promise<void>;
let ws: Workspace;
const W = 'patches';
beforeAll(async () => {
  cleanup = (await tempRoot()).cleanup;
  ws = await Workspace.forSkill({ idempotencyKey: 'x', tenantId: 'test' }, W);
});
afterAll(async () => cleanup());

const put = async (rel: string, text: string): Promise<void> => {
  await mkdir(path.dirname(path.join(ws.dir, rel)), { recursive: true });
  await writeFile(path.join(ws.dir, rel), text);
};
const get = (rel: string): Promise<string> => readFile(path.join(ws.dir, rel), 'utf8');

const before = Array.from({ length: 20 }, (_, i) => `line ${i + 1}\n`).join('');
const after = before.replace('line 2\n', 'LINE 2\n').replace('line 18\n', 'LINE 18\n');
const gitPatch = (a: string, b: string, name = 'src/file.txt') => createTwoFilesPatch(`a/${name}`, `b/${name}`, a, b);

describe('dev.patch.apply', () => {
  it('applies a git-style patch with several hunks', async () => {
    await put('src/file.txt', before);
    const r = await call(patchApply, { workspace: W, patch: gitPatch(before, after) });
    expect(r.files).toEqual([{ path: 'src/file.txt', status: 'modified', alreadyApplied: false, hunks: 2 }]);
    expect(await get('src/file.txt')).toBe(after);
  });

  it('detects an already applied patch on retry and changes nothing', async () => {
    const r = await call(patchApply, { workspace: W, patch: gitPatch(before, after) });
    expect(r.alreadyApplied).toBe(true);
    expect(await get('src/file.txt')).toBe(after);
  });

  it('fails clearly naming the hunk that does not apply, and writes nothing', async () => {
    await put('src/other.txt', 'alpha\nbeta\n');
    const changed = before.replace('line 18', 'something else');
    await put('src/file.txt', changed);
    const multi = gitPatch('alpha\nbeta\n', 'alpha\nBETA\n', 'src/other.txt') + gitPatch(before, after);
    const err = await call(patchApply, { workspace: W, patch: multi }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'patch_does_not_apply' });
    expect((err as Error).message).toMatch(/src\/file\.txt: hunk 2 of 2 \(@@ -14,7 \+14,7 @@\) does not apply/);
    expect(await get('src/other.txt')).toBe('alpha\nbeta\n'); // all or nothing
    expect(await get('src/file.txt')).toBe(changed);
  });

  it('creates and deletes files; dry run writes nothing', async () => {
    await put('gone.txt', 'bye\n');
    const patch = createTwoFilesPatch('/dev/null', 'b/new/created.txt', '', 'hello\n') + createTwoFilesPatch('a/gone.txt', '/dev/null', 'bye\n', '');
    const dry = await call(patchApply, { workspace: W, patch, dryRun: true });
    expect(dry.files.map((f) => f.status)).toEqual(['created', 'deleted']);
    expect(existsSync(path.join(ws.dir, 'new/created.txt'))).toBe(false);
    await call(patchApply, { workspace: W, patch });
    expect(await get('new/created.txt')).toBe('hello\n');
    expect(existsSync(path.join(ws.dir, 'gone.txt'))).toBe(false);
    expect((await call(patchApply, { workspace: W, patch })).alreadyApplied).toBe(true);
  });

  it('refuses paths that leave the workspace', async () => {
    const patch = createTwoFilesPatch('a/../../etc/evil', 'b/../../etc/evil', 'x\n', 'y\n');
    await expect(call(patchApply, { workspace: W, patch })).rejects.toMatchObject({ code: 'path_outside_workspace' });
  });

  it('rejects text that is not a patch', async () => {
    await expect(call(patchApply, { workspace: W, patch: 'hello world' })).rejects.toMatchObject({ code: 'patch_invalid' });
  });
});
