import type { ServiceRuntime } from '@steward/service-kit';

// The gateway reaches prom-client only through the runtime's registry (prom-client is not one of its dependencies),
// so its own gauges and counters are these small metric objects in the shape the registry reads.
type Registry = ServiceRuntime['registry'];
type RegistryMetric = Parameters<Registry['registerMetric']>[0];

class LabelledValues {
  private readonly values = new Map<string, { labels: Record<string, string>; value: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'gauge' | 'counter',
    registry: Registry,
  ) {
    const existing = registry.getSingleMetric(name) as unknown;
    if (existing !== undefined) registry.removeSingleMetric(name);
    registry.registerMetric(this as unknown as RegistryMetric);
  }

  protected add(labels: Record<string, string>, by: number): void {
    const key = JSON.stringify(labels);
    const v = this.values.get(key);
    if (v) v.value += by;
    else this.values.set(key, { labels, value: by });
  }

  /** What the registry reads at a scrape. */
  get(): Promise<{ name: string; help: string; type: string; aggregator: 'sum'; values: { labels: Record<string, string>; value: number }[] }> {
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: 'sum', values: [...this.values.values()].map((v) => ({ labels: { ...v.labels }, value: v.value })) });
  }

  reset(): void {
    this.values.clear();
  }
}

export class GaugeMetric extends LabelledValues {
  constructor(registry: Registry, name: string, help: string) {
    super(name, help, 'gauge', registry);
  }

  inc(labels: Record<string, string>): void {
    this.add(labels, 1);
  }

  dec(labels: Record<string, string>): void {
    this.add(labels, -1);
  }
}

export class CounterMetric extends LabelledValues {
  constructor(registry: Registry, name: string, help: string) {
    super(name, help, 'counter', registry);
  }

  inc(labels: Record<string, string>, by = 1): void {
    this.add(labels, by);
  }
}
