import { Inject, Module, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import { ServiceRuntime, each } from '@steward/service-kit';
import type { EscalationConfig } from './config.js';
import { recordDecision } from './decisions/record-decision.handler.js';

const CONFIG = Symbol('ESCALATION_CONFIG');

/** Receives decision points from workflows and records them for the person. */
@Module({})
export class EscalationModule implements OnApplicationBootstrap {
  constructor(
    @Inject(ServiceRuntime) private readonly rt: ServiceRuntime,
    @Inject(CONFIG) private readonly config: EscalationConfig,
  ) {}

  static forRoot(config: EscalationConfig): DynamicModule {
    return { module: EscalationModule, providers: [{ provide: CONFIG, useValue: config }] };
  }

  async onApplicationBootstrap(): Promise<void> {
    const { rt } = this;
    await rt.consumeIdempotent({
      durable: 'escalation-decision-requested',
      stream: 'events',
      accepts: ['decision.requested.v1'],
      concurrency: this.config.CONSUMER_CONCURRENCY,
      handle: each((ctx, e) => recordDecision(ctx, e.envelope)),
    });
  }
}
