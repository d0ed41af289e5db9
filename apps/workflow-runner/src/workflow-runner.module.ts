import { Inject, Module, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Catalogue, Filters } from '@steward/contracts';
import { ServiceRuntime, TimerLoop } from '@steward/service-kit';
import { registerDefinitionsFromDir } from '@steward/workflows';
import type { WorkflowRunnerConfig } from './config.js';
import type { EngineConfig } from './engine/run-batch.js';
import { RunCache, runCacheMetrics } from './engine/run-cache.js';
import { sweepTimers } from './engine/timers.js';
import { handleControl } from './runs/control.handler.js';
import { handleDecisionsResolved } from './runs/decisions.handler.js';
import { handleExternalEvents } from './runs/external-events.handler.js';
import { handleSkillResults } from './runs/skill-results.handler.js';
import { startRuns } from './runs/start-runs.handler.js';

/** Runs workflow definitions as durable runs: every step run is checkpointed with the events it emits. */
@Module({})
export class WorkflowRunnerModule implements OnApplicationBootstrap, OnModuleDestroy {
  private timers: TimerLoop | undefined;

  constructor(@Inject(ServiceRuntime) private readonly rt: ServiceRuntime<WorkflowRunnerConfig>) {}

  async onApplicationBootstrap(): Promise<void> {
    const { rt } = this;
    const { config } = rt;
    const report = await registerDefinitionsFromDir(rt.prisma, config.WORKFLOWS_DIR);
    for (const r of report.refused) rt.log.error(r, 'workflow definition refused');
    for (const w of report.waitingForSkills) rt.log.warn(w, 'workflow definition names skills no worker has registered yet');
    rt.log.info({ registered: report.registered, unchanged: report.unchanged }, 'workflow definitions loaded');

    const runCache = config.RUN_CACHE_RUNS > 0 ? new RunCache(config.RUN_CACHE_RUNS) : undefined;
    if (runCache) runCacheMetrics(rt.registry, runCache);
    this.timers = new TimerLoop(() => sweepTimers(rt.uow, engine), config.TIMER_POLL_MS, (err) => rt.log.warn({ err }, 'timer sweep failed; will try again'));
    const timers = this.timers;
    const engine: EngineConfig = {
      defaultMaxAttempts: config.STEP_MAX_ATTEMPTS,
      deadlineGraceMs: config.DEADLINE_GRACE_MS,
      progressIntervalMs: config.STEP_PROGRESS_INTERVAL_MS,
      wakeAt: (at) => timers.wakeAt(at),
      ...(runCache ? { runCache } : {}),
    };
    // Every handler here is idempotent by the state it checks (a run exists, a result is for the open attempt, a
    // step still waits, an event id is new), so no inbox record is needed: one statement less per batch.
    const batching = { concurrency: config.CONSUMER_CONCURRENCY, maxBatch: config.CONSUMER_MAX_BATCH, ackWaitMs: config.CONSUMER_ACK_WAIT_MS, inbox: false };

    await rt.consumeIdempotent({
      durable: 'workflow-runner-start',
      stream: 'commands',
      accepts: ['workflow.start.v1'],
      ...batching,
      sqlOnly: true, // the engine only runs raw SQL: its transactions go to node-postgres directly (~1 ms less each)
      handle: (ctx, events) => startRuns(ctx, engine, events.map((e) => e.envelope)),
    });
    await rt.consumeIdempotent({
      durable: 'workflow-runner-skill-results',
      stream: 'events',
      accepts: ['skill.invocation.completed.v1', 'skill.invocation.failed.v1', 'skill.invocation.started.v1', 'skill.invocation.heartbeat.v1'],
      filter: Filters.skillResultsFor('workflow-runner'),
      ...batching,
      sqlOnly: true,
      handle: (ctx, events) => handleSkillResults(ctx, engine, events),
    });
    await rt.consumeIdempotent({
      durable: 'workflow-runner-control',
      stream: 'commands',
      accepts: ['workflow.control.v1'],
      ...batching,
      sqlOnly: true,
      handle: (ctx, events) => handleControl(ctx, engine, events.map((e) => e.envelope)),
    });
    await rt.consumeIdempotent({
      durable: 'workflow-runner-external-events',
      stream: 'events',
      accepts: ['external.event.v1'],
      filter: Catalogue['external.event.v1'].filter,
      ...batching,
      sqlOnly: true,
      handle: (ctx, events) => handleExternalEvents(ctx, engine, events.map((e) => e.envelope)),
    });
    await rt.consumeIdempotent({
      durable: 'workflow-runner-decisions',
      stream: 'events',
      accepts: ['decision.resolved.v1'],
      filter: Catalogue['decision.resolved.v1'].filter,
      ...batching,
      sqlOnly: true,
      handle: (ctx, events) => handleDecisionsResolved(ctx, engine, events.map((e) => e.envelope)),
    });
    this.timers.start();
  }

  onModuleDestroy(): void {
    this.timers?.stop();
  }
}
