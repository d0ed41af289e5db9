// steward_tasks_finished_total: tasks by final status, counted once per task, after the transaction that moved the
// task's row to that status has committed.
import { Counter, type Registry } from '@steward/service-kit';
import type { SqlClient, UnitOfWorkContext } from '@steward/state';

export type TaskKind = 'skill' | 'workflow';
export type FinalStatus = 'completed' | 'failed' | 'cancelled';
export interface FinishedTask {
  kind: TaskKind;
  status: FinalStatus;
}

const FINISHED = Symbol('steward.finishedTasks');
type Tracking = UnitOfWorkContext<SqlClient> & { [FINISHED]?: FinishedTask[] };

/**
 * Notes a task whose row this transaction's UPDATE moved to a final status (called by the lifecycle functions, only
 * when the update changed the row). Nothing happens in a context that does not track (tests, other callers).
 */
export function noteFinished(ctx: UnitOfWorkContext<SqlClient>, kind: TaskKind, status: FinalStatus): void {
  (ctx as Tracking)[FINISHED]?.push({ kind, status });
}

/** A context for one transaction that notes the tasks it finishes in `into`. */
export function tracking(ctx: UnitOfWorkContext<SqlClient>, into: FinishedTask[]): UnitOfWorkContext<SqlClient> {
  const t: Tracking = { ...ctx, [FINISHED]: into };
  return t;
}

export class TaskMetrics {
  private readonly finished: Counter<'kind' | 'status'>;

  constructor(registry: Registry) {
    this.finished = new Counter({
      name: 'steward_tasks_finished_total',
      help: 'Tasks that reached a final status, by kind (skill, workflow) and status (completed, failed, cancelled); counted once, after the commit.',
      labelNames: ['kind', 'status'],
      registers: [registry],
    });
    // Every series exists from the start, so rate() and increase() see the first task of each kind and status.
    for (const kind of ['skill', 'workflow'] as const) for (const status of ['completed', 'failed', 'cancelled'] as const) this.finished.inc({ kind, status }, 0);
  }

  /**
   * Wraps a consumer's handler so that its transaction notes the tasks it finishes, and returns them: give the
   * result to `count` once the transaction has committed (consumeIdempotent's afterCommit).
   */
  track<A extends unknown[]>(fn: (ctx: UnitOfWorkContext<SqlClient>, ...args: A) => Promise<unknown>): (ctx: UnitOfWorkContext<SqlClient>, ...args: A) => Promise<FinishedTask[]> {
    return async (ctx, ...args) => {
      const finished: FinishedTask[] = [];
      await fn(tracking(ctx, finished), ...args);
      return finished;
    };
  }

  /** Counts the tasks a committed transaction finished. */
  readonly count = (finished: readonly FinishedTask[]): void => {
    for (const f of finished) this.finished.inc({ kind: f.kind, status: f.status });
  };
}
