import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { defineSkill, type CodeSkill } from './skill.js';

const Json = z.record(z.string(), z.unknown());

export const echo = defineSkill({
  name: 'echo',
  category: 'core',
  description: 'Returns its input unchanged. Useful to test routing and the pipeline.',
  sideEffects: 'none',
  timeoutMs: 5_000,
  input: Json,
  output: Json,
  run: async (input) => input,
});

type Deep = unknown;
const upper = (v: Deep): Deep =>
  typeof v === 'string' ? v.toUpperCase() : Array.isArray(v) ? v.map(upper) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, upper(x)])) : v;

export const uppercase = defineSkill({
  name: 'text.uppercase',
  category: 'text',
  description: 'Upper-cases every string value in its input, at any depth; keys are kept.',
  sideEffects: 'none',
  timeoutMs: 5_000,
  input: Json,
  output: Json,
  run: async (input) => upper(input) as Record<string, unknown>,
});

export const sleepSkill = defineSkill({
  name: 'util.sleep',
  category: 'core',
  description: 'Waits `ms` milliseconds (at most 10 minutes), then returns its input and how long it waited. Stops when the invocation times out.',
  sideEffects: 'none',
  timeoutMs: 11 * 60_000,
  input: z.object({ ms: z.number().int().min(0).max(600_000) }).loose(),
  output: z.object({ sleptMs: z.number() }).loose(),
  run: async (input, ctx) => {
    const t0 = Date.now();
    await sleep(input.ms, undefined, { signal: ctx.signal });
    return { ...input, sleptMs: Date.now() - t0 };
  },
});

export const builtinSkills: CodeSkill[] = [echo, uppercase, sleepSkill] as CodeSkill[];
