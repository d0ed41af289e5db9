import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { isNotFound } from '@steward/bus';
import { Streams } from '@steward/contracts';
import { ServiceRuntime } from '@steward/service-kit';
import type { Webhook } from '@steward/state';
import { parseEnvelope, typeSelected, type StreamConsumer, type StreamMessage } from '../audit/event-log.js';
import type { GatewayConfig } from '../config.js';
import { CounterMetric } from '../live/metrics.js';
import { checkDestination } from './destination.js';
import { signWebhook } from './signature.js';

/** The durable consumer every gateway replica shares. */
export const WEBHOOK_CONSUMER = 'gateway-webhooks';
const ACK_WAIT_MS = 30_000;
const DAY_MS = 24 * 3600 * 1000;

type Messages = Awaited<ReturnType<StreamConsumer['consume']>>;

export interface Attempt {
  ok: boolean;
  retryable: boolean;
  statusCode?: number;
  error?: string;
}

/**
 * Delivers the tenants' webhooks from a durable JetStream consumer on the event stream (shared by the replicas,
 * starting with the events stored after its creation). The consumer exists, and is read, only while at least one
 * webhook is registered (in any tenant): otherwise every event would cross to the gateway and be acknowledged for
 * nothing. Each replica checks every WEBHOOK_CACHE_MS, and at once after a change made through it; the last
 * webhook's removal deletes the consumer, and the next registration creates it afresh (new events only). Each event goes, as the CloudEvent JSON stored in the stream,
 * to the tenant's endpoints that asked for its type, signed by the Standard Webhooks scheme. When an endpoint fails
 * (non-2xx, timeout, network), the message is nak'd with an exponential delay and retried up to
 * WEBHOOK_MAX_ATTEMPTS; endpoints that already took it are remembered (webhook_deliveries) and skipped. Each
 * endpoint's last outcome is kept on its row.
 */
@Injectable()
export class WebhookDeliverer implements OnModuleInit, OnModuleDestroy {
  private readonly cache = new Map<string, { at: number; hooks: Webhook[] }>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly outcomes: CounterMetric;
  private messages: Messages | undefined;
  private loop: Promise<void> | undefined;
  private watch: NodeJS.Timeout | undefined;
  /** Starts and stops, one at a time. */
  private reconciling: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(@Inject(ServiceRuntime) private readonly runtime: ServiceRuntime<GatewayConfig>) {
    this.outcomes = new CounterMetric(runtime.registry, 'steward_webhook_deliveries_total', 'Webhook delivery attempts by outcome: delivered, retry (failed, to be retried), failed (given up, or refused by the SSRF guard)');
  }

  private get cfg(): GatewayConfig {
    return this.runtime.config;
  }

  async onModuleInit(): Promise<void> {
    if (!this.cfg.WEBHOOKS_ENABLED) return;
    await this.reconcile();
    this.watch = setInterval(() => void this.reconcile(), Math.max(this.cfg.WEBHOOK_CACHE_MS, 1000));
    this.watch.unref();
    // Markers left by a process that stopped in the middle of a retry.
    void this.runtime.prisma.webhookDelivery.deleteMany({ where: { deliveredAt: { lt: new Date(Date.now() - 7 * DAY_MS) } } }).catch(() => undefined);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.watch);
    await this.reconciling;
    await this.stopReading();
  }

  /** Whether this replica is reading the consumer (some webhook is registered). */
  get reading(): boolean {
    return this.messages !== undefined;
  }

  /**
   * After a change made through this process: forgets the tenant's cached endpoints and starts (or stops) reading
   * before the caller answers, so that an endpoint registered gets every event stored after its 201.
   */
  async changed(tenantId: string): Promise<void> {
    this.cache.delete(tenantId);
    if (this.cfg.WEBHOOKS_ENABLED) await this.reconcile();
  }

  /** Reads the consumer while any webhook exists, and only then. */
  private reconcile(): Promise<void> {
    this.reconciling = this.reconciling
      .then(async () => {
        if (this.stopped) return;
        const any = (await this.runtime.prisma.webhook.findFirst({ select: { id: true } })) !== null;
        if (any && !this.messages) await this.start();
        else if (!any) await this.retire();
      })
      .catch((err: unknown) => this.runtime.log.warn({ err }, 'webhook consumer check failed; will try again'));
    return this.reconciling;
  }

  private async stopReading(): Promise<void> {
    const messages = this.messages;
    this.messages = undefined;
    await messages?.close();
    await this.loop;
    await Promise.allSettled([...this.inflight]);
  }

  /** No webhook left: stop reading and remove the consumer (unless one was registered meanwhile). */
  private async retire(): Promise<void> {
    await this.stopReading();
    if ((await this.runtime.prisma.webhook.findFirst({ select: { id: true } })) !== null) return;
    const { bus } = this.runtime;
    await bus.jsm.consumers.delete(bus.streamName('events'), WEBHOOK_CONSUMER).catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
    });
  }

  private async start(): Promise<void> {
    const { bus } = this.runtime;
    const stream = bus.streamName('events');
    const config = {
      durable_name: WEBHOOK_CONSUMER,
      filter_subject: bus.wireSubject(Streams.events.subjects[0]),
      ack_policy: 'explicit' as const,
      deliver_policy: 'new' as const,
      ack_wait: ACK_WAIT_MS * 1_000_000,
      // One more than ours: the last attempt is judged (and terminated) here; the server's limit only stops a crash loop.
      max_deliver: this.cfg.WEBHOOK_MAX_ATTEMPTS + 1,
      // Messages waiting for a retry count against it: room for many before new events wait (see docs/api.md).
      max_ack_pending: 20_000,
    };
    try {
      await bus.jsm.consumers.info(stream, WEBHOOK_CONSUMER);
      const { durable_name: _name, deliver_policy: _fixed, ...mutable } = config;
      await bus.jsm.consumers.update(stream, WEBHOOK_CONSUMER, mutable);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await bus.jsm.consumers.add(stream, config);
    }
    const consumer = await bus.js.consumers.get(stream, WEBHOOK_CONSUMER);
    const messages = await consumer.consume({ max_messages: this.cfg.WEBHOOK_CONCURRENCY * 2 });
    this.messages = messages;
    this.loop = this.pull(messages).finally(() => {
      // It ended by itself (the consumer was deleted by another replica, NATS gone): the next check starts again.
      if (this.messages === messages) this.messages = undefined;
    });
  }

  private async pull(messages: Messages): Promise<void> {
    try {
      for await (const m of messages) {
        while (this.inflight.size >= this.cfg.WEBHOOK_CONCURRENCY) await Promise.race(this.inflight);
        const p = this.handle(m)
          .catch((err: unknown) => {
            this.runtime.log.warn({ err, seq: m.seq }, 'webhook delivery failed; will retry');
            m.nak(this.retryDelay(m.info.deliveryCount));
          })
          .finally(() => this.inflight.delete(p));
        this.inflight.add(p);
      }
    } catch (err) {
      this.runtime.log.error({ err }, 'webhook consumer stopped');
    }
  }

  private async handle(m: StreamMessage): Promise<void> {
    const raw = m.string();
    const event = parseEnvelope(raw);
    const hooks = event ? (await this.hooksOf(event.tenantid)).filter((h) => typeSelected(event.type, h.events)) : [];
    if (!event || hooks.length === 0) {
      m.ack();
      return;
    }
    const attempt = m.info.deliveryCount;
    const ids = hooks.map((h) => h.id);
    let todo = hooks;
    if (attempt > 1) {
      const took = new Set((await this.runtime.prisma.webhookDelivery.findMany({ where: { eventId: event.id, webhookId: { in: ids } }, select: { webhookId: true } })).map((d) => d.webhookId));
      todo = hooks.filter((h) => !took.has(h.id));
    }
    const beat = setInterval(() => m.working(), ACK_WAIT_MS / 3);
    let results: { hook: Webhook; r: Attempt }[];
    try {
      results = await Promise.all(todo.map(async (hook) => ({ hook, r: await this.send(hook, event.id, raw) })));
    } finally {
      clearInterval(beat);
    }
    const last = attempt >= this.cfg.WEBHOOK_MAX_ATTEMPTS;
    const retry = results.some(({ r }) => !r.ok && r.retryable) && !last;
    const now = new Date();
    await Promise.all(
      results.map(({ hook, r }) => {
        const status = r.ok ? 'delivered' : r.retryable && !last ? 'retrying' : 'failed';
        this.outcomes.inc({ outcome: status === 'retrying' ? 'retry' : status });
        if (!r.ok) this.runtime.log.warn({ webhookId: hook.id, tenantId: hook.tenantId, eventId: event.id, attempt, status, statusCode: r.statusCode, error: r.error }, 'webhook not delivered');
        return this.runtime.prisma.webhook.updateMany({
          where: { id: hook.id },
          data: {
            lastAttemptAt: now,
            lastStatus: status,
            lastStatusCode: r.statusCode ?? null,
            lastError: r.error ?? null,
            lastEventId: event.id,
            ...(r.ok ? { lastSuccessAt: now, consecutiveFailures: 0 } : { consecutiveFailures: { increment: 1 } }),
          },
        });
      }),
    );
    if (retry) {
      const took = results.filter(({ r }) => r.ok).map(({ hook }) => ({ webhookId: hook.id, eventId: event.id }));
      if (took.length > 0) await this.runtime.prisma.webhookDelivery.createMany({ data: took, skipDuplicates: true });
      m.nak(this.retryDelay(attempt));
      return;
    }
    if (attempt > 1) await this.runtime.prisma.webhookDelivery.deleteMany({ where: { eventId: event.id, webhookId: { in: ids } } });
    m.ack();
  }

  /** One POST of the stored CloudEvent JSON, signed; never throws. */
  async send(hook: Webhook, eventId: string, body: string): Promise<Attempt> {
    let url: URL;
    try {
      url = new URL(hook.url);
    } catch {
      return { ok: false, retryable: false, error: 'invalid URL' };
    }
    const refused = await checkDestination(url, this.cfg.WEBHOOK_ALLOW_PRIVATE);
    if (refused) return { ok: false, retryable: refused.retryable, error: refused.reason };
    const timestamp = String(Math.floor(Date.now() / 1000));
    try {
      const res = await fetch(url, {
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.timeout(this.cfg.WEBHOOK_TIMEOUT_MS),
        headers: {
          'content-type': 'application/cloudevents+json; charset=utf-8',
          'user-agent': 'Steward-Webhooks/1',
          'webhook-id': eventId,
          'webhook-timestamp': timestamp,
          'webhook-signature': signWebhook(hook.secret, eventId, timestamp, body),
        },
        body,
      });
      await res.body?.cancel().catch(() => undefined);
      const ok = res.status >= 200 && res.status < 300;
      return ok ? { ok, retryable: false, statusCode: res.status } : { ok, retryable: true, statusCode: res.status, error: `HTTP ${res.status}` };
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const error = e.name === 'TimeoutError' ? `no answer within ${this.cfg.WEBHOOK_TIMEOUT_MS} ms` : (e.cause?.code ?? e.cause?.message ?? e.message);
      return { ok: false, retryable: true, error };
    }
  }

  private async hooksOf(tenantId: string): Promise<Webhook[]> {
    const hit = this.cache.get(tenantId);
    if (hit && Date.now() - hit.at < this.cfg.WEBHOOK_CACHE_MS) return hit.hooks;
    const hooks = await this.runtime.prisma.webhook.findMany({ where: { tenantId } });
    this.cache.set(tenantId, { at: Date.now(), hooks });
    if (this.cache.size > 10_000) this.cache.delete(this.cache.keys().next().value!);
    return hooks;
  }

  /** Exponential back-off with ±20 % jitter: base, 2×base, 4×base … up to WEBHOOK_RETRY_MAX_MS. */
  private retryDelay(attempt: number): number {
    const d = Math.min(this.cfg.WEBHOOK_RETRY_BASE_MS * 2 ** Math.max(0, attempt - 1), this.cfg.WEBHOOK_RETRY_MAX_MS);
    return Math.round(d * (0.8 + Math.random() * 0.4));
  }
}
