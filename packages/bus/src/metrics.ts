import { Counter, Gauge, Histogram, type Registry, register as defaultRegistry } from 'prom-client';

export interface BusMetrics {
  processed: Counter<'consumer' | 'type' | 'outcome'>;
  deadLetters: Counter<'consumer' | 'reason'>;
  handlerSeconds: Histogram<'consumer' | 'type'>;
  published: Counter<'stream'>;
  lag: Gauge<'consumer'>;
  lagSources: Map<string, () => Promise<number>>;
}

const byRegistry = new WeakMap<Registry, BusMetrics>();

/** One set of bus metrics per registry (a service has one registry; tests may make their own). */
export function busMetrics(registry: Registry = defaultRegistry): BusMetrics {
  const existing = byRegistry.get(registry);
  if (existing) return existing;
  const lagSources = new Map<string, () => Promise<number>>();
  const m: BusMetrics = {
    processed: new Counter({ name: 'steward_events_processed_total', help: 'Messages handled by a consumer, by outcome (ok, retry, timeout, dead_letter); redeliveries skipped by the inbox count as ok.', labelNames: ['consumer', 'type', 'outcome'], registers: [registry] }),
    deadLetters: new Counter({ name: 'steward_dead_letters_total', help: 'Messages copied to the dead-letter stream, by reason.', labelNames: ['consumer', 'reason'], registers: [registry] }),
    handlerSeconds: new Histogram({ name: 'steward_handler_duration_seconds', help: 'Time a handler took, commit included.', labelNames: ['consumer', 'type'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10], registers: [registry] }),
    published: new Counter({ name: 'steward_events_published_total', help: 'Messages published to JetStream and acknowledged by it.', labelNames: ['stream'], registers: [registry] }),
    lag: new Gauge({
      name: 'steward_consumer_lag',
      help: 'Messages in the stream not yet delivered to the durable consumer (num_pending) plus those delivered but not acked.',
      labelNames: ['consumer'],
      registers: [registry],
      async collect() {
        for (const [consumer, read] of lagSources) {
          try {
            this.set({ consumer }, await read());
          } catch {
            // A scrape during a reconnect keeps the last value rather than failing the whole scrape.
          }
        }
      },
    }),
    lagSources,
  };
  byRegistry.set(registry, m);
  return m;
}
