// Ops skills: waiting, and file access confined to the invocation workspace.
import { appendFile, lstat, mkdir, open, readdir, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { defineSkill, SkillError } from '../skill.js';
import { recall, remember } from './ledger.js';
import { Workspace, workspaceField } from './run-command.js';

const MiB = 1024 * 1024;
const MAX_WAIT_MS = 10 * 60_000;

// ------------------------------------------------------------------------------------------------ ops.wait

export const wait = defineSkill({
  name: 'ops.wait',
  category: 'ops',
  description: 'Waits a number of milliseconds, or until an ISO time, at most 10 minutes; stops at once when the invocation is cancelled or times out.',
  sideEffects: 'none',
  timeoutMs: MAX_WAIT_MS + 60_000,
  input: z.object({
    ms: z.number().int().min(0).max(MAX_WAIT_MS).optional(),
    until: z.iso.datetime({ offset: true }).optional().describe('Wait until this time instead (at most 10 minutes ahead).'),
  }),
  output: z.object({ waitedMs: z.number(), finishedAt: z.string() }),
  run: async (input, ctx) => {
    if ((input.ms === undefined) === (input.until === undefined)) throw new SkillError('invalid_input', 'give exactly one of ms or until');
    const ms = input.ms ?? Math.max(0, Date.parse(input.until!) - Date.now());
    if (ms > MAX_WAIT_MS) throw new SkillError('invalid_input', 'until is more than 10 minutes ahead');
    const t0 = Date.now();
    await sleep(ms, undefined, { signal: ctx.signal });
    return { waitedMs: Date.now() - t0, finishedAt: new Date().toISOString() };
  },
});

// ------------------------------------------------------------------------------------------------ ops.files.read

const pathField = z.string().min(1).max(4096).describe('Path relative to the workspace.');

export const filesRead = defineSkill({
  name: 'ops.files.read',
  category: 'ops',
  description: 'Reads a file from the invocation workspace (never outside it) as UTF-8 text or base64, up to a byte limit.',
  sideEffects: 'none',
  timeoutMs: 30_000,
  input: z.object({
    workspace: workspaceField,
    path: pathField,
    encoding: z.enum(['utf8', 'base64']).default('utf8'),
    maxBytes: z.number().int().min(1).max(50 * MiB).default(MiB).describe('Read at most this many bytes; `truncated` tells if there was more.'),
  }),
  output: z.object({ content: z.string(), size: z.number().int().describe('Whole file size in bytes.'), truncated: z.boolean() }),
  run: async (input, ctx) => {
    const ws = await Workspace.forSkill(ctx, input.workspace);
    const abs = await ws.resolve(input.path);
    const st = await stat(abs).catch(() => undefined);
    if (!st) throw new SkillError('not_found', `no such file in the workspace: ${input.path}`);
    if (!st.isFile()) throw new SkillError('not_a_file', `not a regular file: ${input.path}`);
    const fh = await open(abs, 'r');
    try {
      const len = Math.min(st.size, input.maxBytes);
      const buf = Buffer.alloc(len);
      const { bytesRead } = await fh.read(buf, 0, len, 0);
      return { content: buf.subarray(0, bytesRead).toString(input.encoding), size: st.size, truncated: st.size > input.maxBytes };
    } finally {
      await fh.close();
    }
  },
});

// ------------------------------------------------------------------------------------------------ ops.files.write

export const filesWrite = defineSkill({
  name: 'ops.files.write',
  category: 'ops',
  description:
    'Writes a file in the invocation workspace (parents created): overwrite (atomic), create (fails if a different file exists), or append. Idempotent: a retry with the same key does not append twice.',
  sideEffects: 'reversible',
  timeoutMs: 30_000,
  input: z.object({
    workspace: workspaceField,
    path: pathField,
    content: z.string().max(50 * MiB),
    encoding: z.enum(['utf8', 'base64']).default('utf8'),
    mode: z.enum(['overwrite', 'create', 'append']).default('overwrite'),
  }),
  output: z.object({ path: z.string(), bytesWritten: z.number().int(), size: z.number().int(), changed: z.boolean().describe('False when nothing had to be written (retry or same content).') }),
  run: async (input, ctx) => {
    const ws = await Workspace.forSkill(ctx, input.workspace);
    const abs = await ws.resolve(input.path);
    const data = Buffer.from(input.content, input.encoding);
    const existing = await lstat(abs).catch(() => undefined);
    if (existing && !existing.isFile()) throw new SkillError('not_a_file', `exists and is not a regular file: ${input.path}`);
    await mkdir(path.dirname(abs), { recursive: true });
    const rel = ws.relative(abs);
    const done = (bytesWritten: number, changed: boolean, size: number) => ({ path: rel, bytesWritten, size, changed });
    switch (input.mode) {
      case 'create': {
        if (existing) {
          const same = (await open(abs, 'r').then(async (fh) => fh.readFile().finally(() => fh.close()))).equals(data);
          if (same) return done(0, false, existing.size);
          throw new SkillError('file_exists', `file already exists with other content: ${input.path}`);
        }
        await writeFile(abs, data, { flag: 'wx' });
        return done(data.length, true, data.length);
      }
      case 'append': {
        const scope = `ops.files.write:append:${rel}`;
        if ((await recall(scope, ctx.idempotencyKey)) !== undefined) return done(0, false, (await stat(abs)).size);
        await appendFile(abs, data);
        await remember(scope, ctx.idempotencyKey, { at: Date.now() });
        return done(data.length, true, (await stat(abs)).size);
      }
      case 'overwrite': {
        // Write beside it and rename: readers never see half a file.
        const tmp = path.join(path.dirname(abs), `.${path.basename(abs)}.${process.pid}.${Date.now()}.tmp`);
        await writeFile(tmp, data);
        await rename(tmp, abs);
        return done(data.length, true, data.length);
      }
    }
  },
});

// ------------------------------------------------------------------------------------------------ ops.files.list

const Entry = z.object({ path: z.string(), type: z.enum(['file', 'directory', 'symlink', 'other']), size: z.number().int(), modifiedAt: z.string() });

export const filesList = defineSkill({
  name: 'ops.files.list',
  category: 'ops',
  description: 'Lists files and directories in the invocation workspace (optionally recursive, never following symlinks), with type, size and modification time.',
  sideEffects: 'none',
  timeoutMs: 30_000,
  input: z.object({
    workspace: workspaceField,
    path: z.string().default('.').describe('Directory relative to the workspace.'),
    recursive: z.boolean().default(false),
    includeHidden: z.boolean().default(false).describe('Include names starting with a dot (.git is never descended into).'),
    maxEntries: z.number().int().min(1).max(100_000).default(5_000),
  }),
  output: z.object({ entries: z.array(Entry), truncated: z.boolean() }),
  run: async (input, ctx) => {
    const ws = await Workspace.forSkill(ctx, input.workspace);
    const root = await ws.resolve(input.path);
    const st = await stat(root).catch(() => undefined);
    if (!st?.isDirectory()) throw new SkillError('not_found', `no such directory in the workspace: ${input.path}`);
    const entries: z.infer<typeof Entry>[] = [];
    let truncated = false;
    const queue = [root];
    while (queue.length > 0 && !truncated) {
      ctx.signal.throwIfAborted();
      const dir = queue.shift()!;
      const names = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
      for (const d of names) {
        if (!input.includeHidden && d.name.startsWith('.')) continue;
        if (entries.length >= input.maxEntries) {
          truncated = true;
          break;
        }
        const abs = path.join(dir, d.name);
        const info = await lstat(abs).catch(() => undefined);
        if (!info) continue;
        const type = info.isSymbolicLink() ? 'symlink' : info.isDirectory() ? 'directory' : info.isFile() ? 'file' : 'other';
        entries.push({ path: ws.relative(abs), type, size: info.size, modifiedAt: info.mtime.toISOString() });
        if (input.recursive && type === 'directory' && d.name !== '.git') queue.push(abs);
      }
    }
    return { entries, truncated };
  },
});
