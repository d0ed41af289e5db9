import type { z } from 'zod';
import type { Usage } from './usage.js';

export interface CompletionRequest<T> {
  /** Instructions specific to this call. */
  system?: string;
  /** Large, stable instructions (e.g. a skill body) sent first with cache_control ephemeral. */
  cacheableSystem?: string;
  prompt: string;
  /** The value to produce; the model's tool input is validated against it. */
  schema: z.ZodType<T>;
  /** Tool name shown to the model: letters, digits, `_` and `-`, at most 64 characters. */
  schemaName: string;
  /** What the value is for, shown to the model as the tool description. */
  schemaDescription?: string;
  maxTokens?: number;
  signal?: AbortSignal;
  /** Usage is accounted under this id in the provider's ledger. */
  taskId?: string;
}

export interface Completion<T> {
  value: T;
  /** Summed over every request this completion needed (schema and transport retries included). */
  usage: Usage;
  model: string;
  /** True when produced by the offline provider, never by a model. */
  offline: boolean;
  /** Requests sent to the API (1 on first-time success; 0 offline). */
  attempts: number;
}

export interface ProposalOption {
  id: string;
  label: string;
}

export interface ProposalRequest {
  question: string;
  options: readonly ProposalOption[];
  context: Record<string, unknown>;
  /** Ask n times independently and report how many agree with the modal choice (default 1). */
  samples?: number;
  signal?: AbortSignal;
  taskId?: string;
}

export interface Proposal {
  /** An option id. */
  choice: string;
  /** The model's stated confidence in `choice`, 0..1 (mean over the samples that chose it). */
  confidence: number;
  rationale: string;
  /** Share of the samples that chose `choice`, 0..1; present when samples ≥ 2. */
  agreement?: number;
  /** Samples actually taken. */
  samples: number;
  offline: boolean;
  usage: Usage;
}

/** A source of structured completions and escalation proposals: Claude or the offline stand-in. */
export interface LlmProvider {
  readonly kind: 'anthropic' | 'offline';
  readonly model: string;
  complete<T>(req: CompletionRequest<T>): Promise<Completion<T>>;
  propose(req: ProposalRequest): Promise<Proposal>;
}
