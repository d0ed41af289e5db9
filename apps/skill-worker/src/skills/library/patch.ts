// dev.patch.apply: applies a unified diff to workspace files with jsdiff, all files or none.
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { applyPatch, parsePatch, reversePatch, type StructuredPatch } from 'diff';
import { z } from 'zod';
import { defineSkill, SkillError } from '../skill.js';
import { Workspace, workspaceField } from './run-command.js';

const DEV_NULL = '/dev/null';

function stripPath(name: string, strip: number): string {
  const parts = name.split('/').filter((p, i) => !(i === 0 && p === ''));
  if (parts.length <= strip) throw new SkillError('patch_invalid', `cannot strip ${strip} leading components from ${name}`);
  return parts.slice(strip).join('/');
}

function autoStrip(patches: StructuredPatch[]): number {
  const names = patches.flatMap((p) => [p.oldFileName, p.newFileName]).filter((n): n is string => !!n && n !== DEV_NULL);
  return names.length > 0 && names.every((n) => /^[ab]\//.test(n)) ? 1 : 0;
}

const hunkHeader = (h: StructuredPatch['hunks'][number]): string => `@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@`;

async function readIfExists(p: string): Promise<string | undefined> {
  const st = await stat(p).catch(() => undefined);
  if (!st) return undefined;
  if (!st.isFile()) throw new SkillError('patch_invalid', `not a regular file: ${p}`);
  return readFile(p, 'utf8');
}

type FileStatus = 'modified' | 'created' | 'deleted' | 'renamed';
interface Planned {
  path: string;
  from?: string;
  status: FileStatus;
  alreadyApplied: boolean;
  hunks: number;
  write?: { abs: string; content: string };
  remove?: string;
}

export const patchApply = defineSkill({
  name: 'dev.patch.apply',
  category: 'dev',
  description:
    'Applies a unified diff (git or plain `diff -u`, several files, creations and deletions) to files in the workspace. All or nothing: if any hunk does not apply nothing is written and the error names the file and hunk. Re-applying a patch that is already applied is detected and not an error.',
  sideEffects: 'reversible',
  timeoutMs: 60_000,
  input: z.object({
    workspace: workspaceField,
    patch: z.string().min(1).max(20 * 1024 * 1024).describe('Unified diff text.'),
    cwd: z.string().default('.').describe('Directory (in the workspace) the paths in the patch are relative to.'),
    strip: z.union([z.literal('auto'), z.number().int().min(0).max(10)]).default('auto').describe('Leading path components to drop (like patch -p); auto drops a/ and b/.'),
    fuzzFactor: z.number().int().min(0).max(3).default(0).describe('Context lines that may differ per hunk.'),
    dryRun: z.boolean().default(false).describe('Check that the patch applies, write nothing.'),
  }),
  output: z.object({
    files: z.array(
      z.object({
        path: z.string(),
        from: z.string().optional().describe('Old path of a renamed file.'),
        status: z.enum(['modified', 'created', 'deleted', 'renamed']),
        alreadyApplied: z.boolean(),
        hunks: z.number().int(),
      }),
    ),
    alreadyApplied: z.boolean().describe('True when every file already had this patch.'),
    dryRun: z.boolean(),
  }),
  run: async (input, ctx) => {
    const ws = await Workspace.forSkill(ctx, input.workspace);
    const base = ws.relative(await ws.resolve(input.cwd));
    let patches: StructuredPatch[];
    try {
      patches = parsePatch(input.patch);
    } catch (err) {
      throw new SkillError('patch_invalid', `cannot parse the patch: ${err instanceof Error ? err.message : String(err)}`);
    }
    patches = patches.filter((p) => p.hunks.length > 0 || p.isRename || p.isCreate || p.isDelete || p.isBinary);
    if (patches.length === 0) throw new SkillError('patch_invalid', 'the patch contains no file changes');
    const strip = input.strip === 'auto' ? autoStrip(patches) : input.strip;
    const resolve = (name: string): Promise<string> => ws.resolve(path.join(base, stripPath(name, strip)));

    const plan: Planned[] = [];
    for (const p of patches) {
      ctx.signal.throwIfAborted();
      const oldName = p.oldFileName && p.oldFileName !== DEV_NULL ? p.oldFileName : undefined;
      const newName = p.newFileName && p.newFileName !== DEV_NULL ? p.newFileName : undefined;
      const label = stripPath(newName ?? oldName ?? '?', strip);
      if (p.isBinary) throw new SkillError('patch_unsupported', `binary changes cannot be applied: ${label}`);
      const creating = !oldName || p.isCreate === true;
      const deleting = !newName || p.isDelete === true;
      const oldAbs = oldName ? await resolve(oldName) : undefined;
      const newAbs = newName ? await resolve(newName) : undefined;
      const renaming = !creating && !deleting && oldAbs !== newAbs;
      const status: FileStatus = creating ? 'created' : deleting ? 'deleted' : renaming ? 'renamed' : 'modified';
      const sourceAbs = creating ? newAbs! : oldAbs!;
      const current = await readIfExists(sourceAbs);
      const entry = { path: ws.relative(newAbs ?? oldAbs!), ...(renaming ? { from: ws.relative(oldAbs!) } : {}), status, hunks: p.hunks.length };

      if (renaming && current === undefined) {
        // The rename already happened: check the new file instead.
        const moved = await readIfExists(newAbs!);
        if (moved !== undefined && (p.hunks.length === 0 || applyPatch(moved, reversePatch(p), { fuzzFactor: input.fuzzFactor }) !== false)) {
          plan.push({ ...entry, alreadyApplied: true });
          continue;
        }
        throw new SkillError('patch_does_not_apply', `${entry.from ?? label}: file to rename does not exist`);
      }
      if (current === undefined && !creating) {
        if (deleting) {
          plan.push({ ...entry, alreadyApplied: true });
          continue;
        }
        throw new SkillError('patch_does_not_apply', `${label}: file does not exist`);
      }
      const source = current ?? '';
      const result = p.hunks.length === 0 ? source : applyPatch(source, p, { fuzzFactor: input.fuzzFactor });
      if (result === false || (creating && current !== undefined && current !== '')) {
        // Either it does not fit, or it was applied before: the reverse patch fitting tells which.
        const reversed = creating ? (current === applyPatch('', p) ? '' : false) : applyPatch(source, reversePatch(p), { fuzzFactor: input.fuzzFactor });
        if (reversed !== false) {
          plan.push({ ...entry, alreadyApplied: true });
          continue;
        }
        if (creating) throw new SkillError('patch_does_not_apply', `${label}: file to create already exists with other content`);
        const bad = p.hunks.findIndex((h) => applyPatch(source, { ...p, hunks: [h] }, { fuzzFactor: input.fuzzFactor }) === false);
        const where = bad >= 0 ? `hunk ${bad + 1} of ${p.hunks.length} (${hunkHeader(p.hunks[bad]!)})` : 'the hunks (in this order)';
        throw new SkillError('patch_does_not_apply', `${label}: ${where} does not apply`);
      }
      if (deleting) plan.push({ ...entry, alreadyApplied: false, remove: oldAbs! });
      else if (renaming) plan.push({ ...entry, alreadyApplied: false, write: { abs: newAbs!, content: result }, remove: oldAbs! });
      else plan.push({ ...entry, alreadyApplied: false, write: { abs: newAbs!, content: result } });
    }

    if (!input.dryRun) {
      for (const f of plan) {
        if (f.write) {
          await mkdir(path.dirname(f.write.abs), { recursive: true });
          await writeFile(f.write.abs, f.write.content);
        }
        if (f.remove) await rm(f.remove, { force: true });
      }
    }
    return {
      files: plan.map(({ path: p, from, status, alreadyApplied, hunks }) => ({ path: p, ...(from ? { from } : {}), status, alreadyApplied, hunks })),
      alreadyApplied: plan.every((f) => f.alreadyApplied),
      dryRun: input.dryRun,
    };
  },
});
