// Time-driven changes: retries whose back-off is over, duration waits, attempts past their deadline or heartbeat
// lease, and runs past their deadline. Waiting holds no worker: it is a row with a time, found by this sweep (an
// index per condition), which every replica runs; the run lock makes a second sweeper of the same row a no-op.
import type { UnitOfWork } from '@steward/state';
import { RunBatch, type EngineConfig } from './run-batch.js';

interface Due {
  id: string;
  run_id: string;
}

export async function sweepTimers(uow: UnitOfWork, config: EngineConfig, limit = 200): Promise<number> {
  return uow.sqlTransaction(async (ctx) => {
    const { tx } = ctx;
    const steps = await tx.$queryRaw<Due[]>`
      (SELECT id, run_id FROM step_runs WHERE status = 'waiting' AND next_attempt_at <= now() ORDER BY next_attempt_at LIMIT ${limit})
      UNION (SELECT id, run_id FROM step_runs WHERE status IN ('scheduled', 'running', 'waiting') AND deadline_at <= now() ORDER BY deadline_at LIMIT ${limit})
      UNION (SELECT id, run_id FROM step_runs WHERE status IN ('scheduled', 'running') AND lease_expires_at <= now() ORDER BY lease_expires_at LIMIT ${limit})`;
    const runs = await tx.$queryRaw<{ id: string }[]>`
      SELECT id FROM workflow_runs WHERE status IN ('running', 'parked') AND deadline_at <= now() ORDER BY deadline_at LIMIT ${limit}`;
    if (steps.length === 0 && runs.length === 0) return 0;
    const batch = new RunBatch(ctx, config, `timer:${new Date().toISOString()}`);
    await batch.load([...steps.map((s) => s.run_id), ...runs.map((r) => r.id)]);
    const now = batch.now.getTime();
    for (const r of runs) {
      const run = batch.runs.get(r.id);
      if (run && (run.row.status === 'running' || run.row.status === 'parked') && run.row.deadlineAt && run.row.deadlineAt.getTime() <= now) {
        await batch.failRun(run, { code: 'workflow_timeout', message: `${run.def.name} did not finish within ${run.def.timeoutMs} ms`, retryable: false });
      }
    }
    for (const s of steps) {
      const found = batch.findStep(s.id);
      if (!found || found.run.row.status === 'completed' || found.run.row.status === 'failed' || found.run.row.status === 'cancelled') continue;
      const { run, row } = found;
      const due = (d: Date | null) => d !== null && d.getTime() <= now;
      if (row.status === 'waiting' && due(row.nextAttemptAt)) {
        if (row.waitFor === 'retry') await batch.startStep(run, row);
        else if (row.waitFor === 'timer') await batch.completeStep(run, row, { waitedMs: now - (row.scheduledAt?.getTime() ?? now) });
      } else if (due(row.deadlineAt) && (row.status === 'scheduled' || row.status === 'running' || row.status === 'waiting')) {
        await batch.timeOutAttempt(run, row, row.waitFor === 'event' ? { code: 'wait_timeout', message: `no ${row.waitKey?.split('|')[0]} event arrived in time`, retryable: false } : { code: 'timeout', message: `step ${row.stepPath} attempt ${row.attempt} did not finish in time`, retryable: true });
      } else if (due(row.leaseExpiresAt) && (row.status === 'scheduled' || row.status === 'running')) {
        await batch.timeOutAttempt(run, row, { code: 'heartbeat_timeout', message: `step ${row.stepPath} attempt ${row.attempt} sent no heartbeat in time`, retryable: true });
      }
    }
    await batch.flush();
    return steps.length + runs.length;
  });
}
