import { Inject, Module, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { ServiceRuntime, TimerLoop } from '@steward/service-kit';
import { handleControl } from './answers/control.handler.js';
import { sweepEscalations } from './batches/sweep.js';
import type { EscalationConfig } from './config.js';
import { decideDecisions } from './decisions/decide.handler.js';
import { withdrawDecisions } from './decisions/withdraw.handler.js';
import { EngineStore } from './engine/engine-store.js';
import { EscalationMetrics } from './metrics.js';

/**
 * Decides every decision point: autonomously when the tenant's policy allows it, else escalated to the person in
 * batches; learns from their answers and reviews.
 */
@Module({})
export class EscalationModule implements OnApplicationBootstrap, OnModuleDestroy {
  private timers: TimerLoop | undefined;

  constructor(@Inject(ServiceRuntime) private readonly rt: ServiceRuntime<EscalationConfig>) {}

  async onApplicationBootstrap(): Promise<void> {
    const { rt } = this;
    const config = rt.config;
    const metrics = new EscalationMetrics(rt.registry);
    const store = new EngineStore(config.ENGINE_SEED, (msg, details) => rt.log.error(details, msg));
    this.timers = new TimerLoop(() => sweepEscalations(rt.uow, { metrics }), config.TIMER_POLL_MS, (err) => rt.log.warn({ err }, 'escalation sweep failed; will try again'));
    const timers = this.timers;
    const deps = { store, metrics, fallbackAfterMs: config.DECISION_FALLBACK_AFTER_MS, wakeAt: (at: Date) => timers.wakeAt(at), log: rt.log };
    await rt.consumeIdempotent({
      durable: 'escalation-decision-requested',
      stream: 'events',
      accepts: ['decision.requested.v1'],
      concurrency: config.CONSUMER_CONCURRENCY,
      // Idempotent by the decision row (a redelivered request finds it and changes nothing): no inbox record needed.
      inbox: false,
      handle: (ctx, events) => decideDecisions(ctx, deps, events.map((e) => e.envelope)),
    });
    await rt.consumeIdempotent({
      durable: 'escalation-decision-withdrawn',
      stream: 'events',
      accepts: ['decision.withdrawn.v1'],
      concurrency: config.CONSUMER_CONCURRENCY,
      inbox: false, // a second withdrawal finds the row withdrawn and changes nothing
      handle: (ctx, events) => withdrawDecisions(ctx, events.map((e) => e.envelope)),
    });
    await rt.consumeIdempotent({
      durable: 'escalation-control',
      stream: 'commands',
      accepts: ['escalation.control.v1'],
      concurrency: config.CONSUMER_CONCURRENCY,
      handle: (ctx, events) => handleControl(ctx, deps, events.map((e) => e.envelope)),
    });
    this.timers.start();
  }

  onModuleDestroy(): void {
    this.timers?.stop();
  }
}
