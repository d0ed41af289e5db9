// Skills for testing workflows end to end: loaded only when TEST_SKILLS=true (the e2e and crash tests set it).
import { appendFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { defineSkill, SkillError, type CodeSkill } from './skill.js';

/** Appends one line per execution to a file: the tests count side effects with it. */
export const record = defineSkill({
  name: 'test.record',
  category: 'test',
  description: 'Waits `ms`, then appends `tag` and the attempt as one line to `file` (one line per execution); returns its input.',
  sideEffects: 'reversible',
  timeoutMs: 60_000,
  input: z.object({ file: z.string().min(1), tag: z.string().min(1), ms: z.number().int().min(0).max(10_000).default(0) }).loose(),
  output: z.object({ tag: z.string() }).loose(),
  run: async (input, ctx) => {
    if (input.ms > 0) await sleep(input.ms, undefined, { signal: ctx.signal });
    await appendFile(input.file, `${JSON.stringify({ tag: input.tag, attempt: ctx.attempt, key: ctx.idempotencyKey, at: Date.now() })}\n`);
    return input;
  },
});

/** Fails (with `code`, retryable or not) until the attempt reaches `succeed_on`. */
export const flaky = defineSkill({
  name: 'test.flaky',
  category: 'test',
  description: 'Fails with `code` until attempt `succeed_on`, then returns the attempt number.',
  sideEffects: 'none',
  timeoutMs: 10_000,
  input: z.object({ succeed_on: z.number().int().min(1), code: z.string().default('flaky'), retryable: z.boolean().default(true) }).loose(),
  output: z.object({ attempt: z.number() }),
  run: async (input, ctx) => {
    if (ctx.attempt < input.succeed_on) throw new SkillError(input.code, `attempt ${ctx.attempt} fails on purpose`, input.retryable);
    return { attempt: ctx.attempt };
  },
});

export const testSkills: CodeSkill[] = [record, flaky] as CodeSkill[];
