import type { z } from 'zod';

/** A code skill: a typed handler with schemas and the metadata the catalogue and the escalation service use. */
export interface CodeSkill<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  name: string;
  category: string;
  description: string;
  sideEffects: 'none' | 'reversible' | 'irreversible';
  timeoutMs: number;
  /** `prompt` for Agent Skills folders (their instructions go to the model); `code` when absent. */
  kind?: 'code' | 'prompt';
  input: I;
  output: O;
  run(input: z.infer<I>, ctx: SkillContext): Promise<z.infer<O>>;
}

export interface ModelUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: number;
}

export interface SkillContext {
  /** Equal across retries of one step run: skills with outside effects must act at most once per key. */
  idempotencyKey: string;
  /** Whose work this is: anything a skill keeps between invocations (a named workspace) is kept per tenant. */
  tenantId: string;
  /** The task this invocation works for (model usage is accounted to it). */
  taskId: string;
  /** Skills that call a model report each call's usage here; it goes out with the invocation's result. */
  recordUsage?: (model: string, usage: ModelUsage) => void;
  attempt: number;
  /** Aborted on timeout or cancellation; long skills must pass it on or check it. */
  signal: AbortSignal;
}

/** An error a skill raises on purpose; `retryable: false` means retrying cannot help. */
export class SkillError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryable = false,
  ) {
    super(message);
    this.name = 'SkillError';
  }
}

export const defineSkill = <I extends z.ZodType, O extends z.ZodType>(s: CodeSkill<I, O>): CodeSkill<I, O> => s;
