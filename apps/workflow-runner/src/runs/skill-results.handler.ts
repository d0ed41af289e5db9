import type { Envelope, SkillInvocationCompletedV1, SkillInvocationFailedV1, SkillInvocationProgressV1 } from '@steward/contracts';
import { loadSkillOutputs, type SqlClient, type UnitOfWorkContext } from '@steward/state';
import { RunBatch, type EngineConfig } from '../engine/run-batch.js';

export type SkillResultEvent =
  | { key: 'skill.invocation.completed.v1'; envelope: Envelope<SkillInvocationCompletedV1> }
  | { key: 'skill.invocation.failed.v1'; envelope: Envelope<SkillInvocationFailedV1> }
  | { key: 'skill.invocation.started.v1'; envelope: Envelope<SkillInvocationProgressV1> }
  | { key: 'skill.invocation.heartbeat.v1'; envelope: Envelope<SkillInvocationProgressV1> };

/**
 * Results and progress of step runs' skills. A result counts only for the step run's current attempt while it is
 * open — checked on the step run, under its run's lock (fencing): a late or repeated result of an older attempt, or
 * one for a step that timed out or was cancelled, changes nothing. Then the runs advance.
 */
export async function handleSkillResults(ctx: UnitOfWorkContext<SqlClient>, config: EngineConfig, events: SkillResultEvent[]): Promise<void> {
  const mine = events.filter((e) => e.envelope.data.stepRunId);
  if (mine.length === 0) return;
  const batch = new RunBatch(ctx, config, mine[0]!.envelope.id);
  await batch.loadByStepRunIds([...new Set(mine.map((e) => e.envelope.data.stepRunId!))]);
  const stored = await loadSkillOutputs(ctx.tx, mine.flatMap((e) => (e.key === 'skill.invocation.completed.v1' && e.envelope.data.outputRef ? [e.envelope.data.outputRef] : [])));
  for (const e of mine) {
    const d = e.envelope.data;
    const found = batch.findStep(d.stepRunId!);
    if (!found) continue;
    const { run, row } = found;
    const current = row.attempt === d.attempt && (row.status === 'scheduled' || row.status === 'running');
    if (!current) continue;
    const startedAt = d.startedAt === undefined ? undefined : new Date(d.startedAt);
    // A skill quicker than its started report tells of its start in its result: the step still gets its started event.
    const isResult = e.key === 'skill.invocation.completed.v1' || e.key === 'skill.invocation.failed.v1';
    if (isResult && row.status === 'scheduled' && d.worker && startedAt) batch.markRunning(run, row, d.worker, undefined, true, startedAt);
    switch (e.key) {
      case 'skill.invocation.started.v1':
      case 'skill.invocation.heartbeat.v1': {
        const hb = batch.stepDef(run, row).heartbeatTimeoutMs;
        batch.markRunning(run, row, e.envelope.data.worker, hb, e.key === 'skill.invocation.started.v1', startedAt);
        break;
      }
      case 'skill.invocation.completed.v1': {
        const ref = e.envelope.data.outputRef;
        const output = ref ? stored.get(ref.id) : e.envelope.data.output;
        batch.recordSkillResult(row, { status: 'completed', output });
        await batch.completeStep(run, row, output, ref);
        break;
      }
      case 'skill.invocation.failed.v1':
        batch.recordSkillResult(row, { status: 'failed', error: e.envelope.data.error });
        await batch.failAttempt(run, row, e.envelope.data.error);
        break;
    }
  }
  await batch.flush();
}
