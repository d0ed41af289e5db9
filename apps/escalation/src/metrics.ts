import type { EngineMetrics, VerdictBasis } from '@steward/escalation-engine';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The escalation service's metrics: what the engine decides, how well, and what the person sees. */
export class EscalationMetrics {
  private readonly decisions: Counter<'tenant' | 'outcome'>;
  private readonly escalations: Counter<'tenant' | 'basis'>;
  private readonly rate: Gauge<'tenant' | 'kind'>;
  private readonly error: Gauge<'tenant' | 'bound'>;
  private readonly batchSize: Histogram<'tenant' | 'trigger'>;
  private readonly batchWait: Histogram<'tenant' | 'trigger'>;

  constructor(registry: Registry) {
    this.decisions = new Counter({ name: 'steward_decisions_total', help: 'Decisions by outcome: autonomous, preference, escalated, human, timeout', labelNames: ['tenant', 'outcome'], registers: [registry] });
    this.escalations = new Counter({ name: 'steward_escalations_total', help: 'Escalations by what settled them: rule, no_choice, not_earned, threshold, budget', labelNames: ['tenant', 'basis'], registers: [registry] });
    this.rate = new Gauge({ name: 'steward_escalation_rate', help: 'Engine rates since its start: autonomy, escalation, usefulness (share of escalations the person changed)', labelNames: ['tenant', 'kind'], registers: [registry] });
    this.error = new Gauge({ name: 'steward_autonomous_error_estimate', help: 'Importance-weighted autonomous error from audits, with its 95% interval', labelNames: ['tenant', 'bound'], registers: [registry] });
    this.batchSize = new Histogram({ name: 'steward_escalation_batch_size', help: 'Escalations per batch sent', labelNames: ['tenant', 'trigger'], buckets: [1, 2, 3, 5, 8, 13, 21], registers: [registry] });
    this.batchWait = new Histogram({ name: 'steward_escalation_batch_wait_seconds', help: 'From a batch opening to its sending', labelNames: ['tenant', 'trigger'], buckets: [0.1, 1, 10, 60, 300, 900, 3600, 86400], registers: [registry] });
  }

  decided(tenant: string, outcome: 'autonomous' | 'preference' | 'escalated' | 'human' | 'timeout'): void {
    this.decisions.inc({ tenant, outcome });
  }

  /** An escalation, by what settled it (the engine's verdict basis). */
  escalated(tenant: string, basis: VerdictBasis): void {
    this.decisions.inc({ tenant, outcome: 'escalated' });
    this.escalations.inc({ tenant, basis });
  }

  engine(tenant: string, m: EngineMetrics): void {
    this.rate.set({ tenant, kind: 'autonomy' }, m.autonomyRate);
    this.rate.set({ tenant, kind: 'escalation' }, m.escalationRate);
    this.rate.set({ tenant, kind: 'usefulness' }, m.usefulness);
    this.error.set({ tenant, bound: 'estimate' }, m.estimatedAutonomousError.estimate);
    this.error.set({ tenant, bound: 'lower' }, m.estimatedAutonomousError.lower);
    this.error.set({ tenant, bound: 'upper' }, m.estimatedAutonomousError.upper);
  }

  batchSent(tenant: string, trigger: string, size: number, waitSeconds: number): void {
    this.batchSize.observe({ tenant, trigger }, size);
    this.batchWait.observe({ tenant, trigger }, waitSeconds);
  }
}
