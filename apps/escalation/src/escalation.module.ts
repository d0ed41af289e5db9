import { Inject, Module, type OnApplicationBootstrap } from '@nestjs/common';
import { ServiceRuntime, each } from '@steward/service-kit';
import type { EscalationConfig } from './config.js';
import { recordDecision } from './decisions/record-decision.handler.js';

/** Receives decision points from workflows and records them for the person. */
@Module({})
export class EscalationModule implements OnApplicationBootstrap {
  constructor(@Inject(ServiceRuntime) private readonly rt: ServiceRuntime<EscalationConfig>) {}

  async onApplicationBootstrap(): Promise<void> {
    const { rt } = this;
    await rt.consumeIdempotent({
      durable: 'escalation-decision-requested',
      stream: 'events',
      accepts: ['decision.requested.v1'],
      concurrency: this.rt.config.CONSUMER_CONCURRENCY,
      handle: each((ctx, e) => recordDecision(ctx, e.envelope)),
    });
  }
}
