// Shared helpers for the library's tests: a skill context and a throwaway workspace root.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { z } from 'zod';
import type { CodeSkill, SkillContext } from '../skill.js';
import { configureWorkspaceRoot } from './run-command.js';

export const ctx = (idempotencyKey = `key-${Math.random().toString(36).slice(2)}`, signal?: SkillContext['signal']): SkillContext => ({ idempotencyKey, tenantId: 'test', taskId: 'task-test', attempt: 1, signal: signal ?? new AbortController().signal });

/** Parses the input like the worker does (defaults applied), then runs the skill. */
export async function call<I extends z.ZodType, O extends z.ZodType>(skill: CodeSkill<I, O>, input: z.input<I>, c: SkillContext = ctx()): Promise<z.infer<O>> {
  const out = await skill.run(skill.input.parse(input), c);
  return skill.output.parse(out);
}

/** Points the workspace root at a fresh temp dir for one test file; returns it and a cleanup. */
export async function tempRoot(): Promise<{ root: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'steward-lib-test-'));
  configureWorkspaceRoot(root);
  return { root, cleanup: () => rm(root, { recursive: true, force: true }) };
}
