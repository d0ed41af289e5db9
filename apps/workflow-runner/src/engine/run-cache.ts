import { Counter, Gauge, type Registry } from '@steward/service-kit';
import type { RunState } from './run-batch.js';

/**
 * The runs this workflow-runner committed last, as it left them, so that the result of a step it dispatched can be
 * handled without reading the run again: one round trip less per step.
 *
 * Nothing here is trusted. A batch that takes runs from the cache claims them in its write's transaction
 * (steward_claim_runs: lock, then check each run's version); if any other writer changed one meanwhile — another
 * runner, a timer, a recovery — the claim fails with 40001, the whole transaction rolls back, and the batch runs
 * again the usual way, reading the runs under their locks. A run is taken out while a batch works on it and put back
 * only once that batch has committed, so a batch that fails leaves nothing behind. Ended runs are not kept; beyond
 * `maxRuns` the least recently stored go.
 */
export class RunCache {
  private readonly runs = new Map<string, RunState>();
  private readonly runOfStep = new Map<string, string>();
  /** Lookups that found every run asked for, and those that did not. */
  hits = 0;
  misses = 0;

  constructor(private readonly maxRuns = 10_000) {}

  get size(): number {
    return this.runs.size;
  }

  /** The runs owning these step runs, taken out of the cache, when it holds them all; otherwise undefined (and none taken). */
  take(stepRunIds: readonly string[]): RunState[] | undefined {
    const runIds = new Set<string>();
    for (const id of stepRunIds) {
      const runId = this.runOfStep.get(id);
      if (runId === undefined || !this.runs.has(runId)) {
        this.misses++;
        return undefined;
      }
      runIds.add(runId);
    }
    this.hits++;
    return [...runIds].map((id) => {
      const run = this.runs.get(id)!;
      this.delete(id);
      return run;
    });
  }

  /** Keeps runs as a committed batch left them (ended runs are dropped instead). */
  put(runs: Iterable<RunState>, ended: (run: RunState) => boolean): void {
    for (const run of runs) {
      this.delete(run.row.id);
      if (ended(run)) continue;
      this.runs.set(run.row.id, run);
      for (const step of run.steps.values()) this.runOfStep.set(step.id, run.row.id);
    }
    for (const id of this.runs.keys()) {
      if (this.runs.size <= this.maxRuns) break;
      this.delete(id);
    }
  }

  delete(runId: string): void {
    const run = this.runs.get(runId);
    if (run === undefined) return;
    this.runs.delete(runId);
    for (const step of run.steps.values()) this.runOfStep.delete(step.id);
  }
}

/** The cache's lookups (hit: every run from memory; miss: read from PostgreSQL) and size, read at scrape time. */
export function runCacheMetrics(registry: Registry, cache: RunCache): void {
  let reported = { hits: 0, misses: 0 };
  new Counter({
    name: 'steward_run_cache_lookups_total',
    help: 'Step-result batches whose runs came from the run cache (hit) or were read from PostgreSQL (miss); stale hits show as steward_transaction_conflicts_total',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      this.inc({ outcome: 'hit' }, cache.hits - reported.hits);
      this.inc({ outcome: 'miss' }, cache.misses - reported.misses);
      reported = { hits: cache.hits, misses: cache.misses };
    },
  });
  new Gauge({
    name: 'steward_run_cache_runs',
    help: 'Runs held by the run cache',
    registers: [registry],
    collect() {
      this.set(cache.size);
    },
  });
}
