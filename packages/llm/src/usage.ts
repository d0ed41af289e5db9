import type { TokenCounts } from './pricing.js';

/** Tokens and cost of one completion (summed over its retries). */
export interface Usage extends TokenCounts {
  /** USD; 0 when offline or when the model is missing from the price table (then `priced` is false). */
  costUsd: number;
  /** False when the model had no entry in the price table, so `costUsd` understates the real cost. */
  priced: boolean;
}

export function emptyUsage(): Usage {
  return { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0, priced: true };
}

export function addUsage(a: Usage, b: Usage): Usage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheReadTokens: a.cacheReadTokens + b.cacheReadTokens,
    cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens,
    costUsd: a.costUsd + b.costUsd,
    priced: a.priced && b.priced,
  };
}

export interface LedgerEntry extends Usage {
  taskId: string;
  /** Completions recorded under this task. */
  calls: number;
  /** Per model, since one task may use several. */
  models: Record<string, Usage & { calls: number }>;
}

/** Work done without a taskId is kept under this key rather than dropped. */
export const UNASSIGNED_TASK = '(none)';

/**
 * In-memory usage per taskId. Deliberately storage-free: a service persists `snapshot()` and
 * rebuilds with `UsageLedger.fromSnapshot()`, or subscribes with `onRecord`.
 */
export class UsageLedger {
  readonly #tasks = new Map<string, LedgerEntry>();
  readonly #listeners = new Set<(taskId: string, model: string, usage: Usage) => void>();

  record(taskId: string | undefined, model: string, usage: Usage): void {
    const id = taskId ?? UNASSIGNED_TASK;
    const prev = this.#tasks.get(id) ?? { taskId: id, calls: 0, models: {}, ...emptyUsage() };
    const prevModel = prev.models[model] ?? { ...emptyUsage(), calls: 0 };
    const next: LedgerEntry = { ...prev, ...addUsage(prev, usage), taskId: id, calls: prev.calls + 1, models: { ...prev.models, [model]: { ...addUsage(prevModel, usage), calls: prevModel.calls + 1 } } };
    this.#tasks.set(id, next);
    for (const listener of this.#listeners) listener(id, model, usage);
  }

  get(taskId: string): LedgerEntry | undefined {
    const entry = this.#tasks.get(taskId);
    return entry === undefined ? undefined : structuredClone(entry);
  }

  total(): Usage & { calls: number } {
    let sum = emptyUsage();
    let calls = 0;
    for (const e of this.#tasks.values()) {
      sum = addUsage(sum, e);
      calls += e.calls;
    }
    return { ...sum, calls };
  }

  /** Called synchronously after each record; returns an unsubscribe function. */
  onRecord(listener: (taskId: string, model: string, usage: Usage) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  snapshot(): LedgerEntry[] {
    return [...this.#tasks.values()].map((e) => structuredClone(e));
  }

  static fromSnapshot(entries: readonly LedgerEntry[]): UsageLedger {
    const ledger = new UsageLedger();
    for (const e of entries) ledger.#tasks.set(e.taskId, structuredClone(e));
    return ledger;
  }
}
