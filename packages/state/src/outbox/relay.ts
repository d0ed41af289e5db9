import pg from 'pg';
import { Gauge, type Registry, register as defaultRegistry } from 'prom-client';
import { outsideScope, silentLogger, type Bus, type Logger } from '@steward/bus';

export interface OutboxRelayOptions {
  databaseUrl: string;
  /** PostgreSQL schema holding the outbox table (tests use one schema each). */
  schema?: string;
  /** Rows published per transaction; publishes inside a batch are pipelined. */
  batchSize?: number;
  /** How often the sweep looks for rows left behind (a crash between commit and publish, NATS down). */
  pollIntervalMs?: number;
  /** Rows younger than this are left to the process that committed them (it publishes them at once). */
  graceMs?: number;
  /** After a failed publish, the sweep runs this much later (once the rows are past graceMs). */
  retryDelayMs?: number;
  /**
   * Published rows are deleted this long after their publish, together with every row published meanwhile: one
   * DELETE per interval instead of one per transaction.
   */
  deleteDelayMs?: number;
  log?: Logger;
  registry?: Registry;
}

/** A committed outbox row, as the unit of work hands it over for immediate publishing. */
export interface OutboxMessage {
  eventId: string;
  subject: string;
  payload: string;
  headers?: Record<string, string>;
}

interface OutboxRow {
  id: string;
  event_id: string;
  subject: string;
  payload: string;
  headers: Record<string, string> | null;
}

/**
 * Publishes committed outbox rows to JetStream with Nats-Msg-Id = event id, then deletes them.
 * Fast path: the committing process hands its rows to `publishCommitted` right after commit; they are published
 * at once and deleted in batches. Safety net: rows left behind (a crash between commit and publish, NATS down) are
 * swept by a poll once older than graceMs. Several relays may sweep at once: FOR UPDATE SKIP LOCKED gives each row
 * to one of them, and JetStream drops a double publish by its msg id. There is no LISTEN/NOTIFY: the committing
 * process publishes its own rows, so a notification on every commit would wake every service for nothing.
 */
export class OutboxRelay {
  private readonly pool: pg.Pool;
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly schema: string;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly log: Logger;
  private readonly backlog: Gauge;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly retryDelayMs: number;
  private readonly graceMs: number;
  private readonly deleteDelayMs: number;
  private published: string[] = [];
  private deleteTimer: NodeJS.Timeout | undefined;
  private deleting: Promise<void> | undefined;
  /** Publishes after commit still in flight (stop waits for them). */
  private readonly publishing = new Set<Promise<void>>();

  constructor(
    private readonly bus: Bus,
    private readonly opts: OutboxRelayOptions,
  ) {
    this.schema = opts.schema ?? 'public';
    this.batchSize = opts.batchSize ?? 500;
    this.pollIntervalMs = opts.pollIntervalMs ?? 1000;
    this.log = opts.log ?? silentLogger;
    this.graceMs = opts.graceMs ?? 2000;
    this.retryDelayMs = opts.retryDelayMs ?? this.graceMs + 500;
    this.deleteDelayMs = opts.deleteDelayMs ?? 100;
    // Three connections: deletes of published rows never wait behind a sweep.
    this.pool = new pg.Pool({ connectionString: opts.databaseUrl, max: 3, options: `-c search_path="${this.schema}"` });
    this.pool.on('error', (err) => this.log.warn({ err }, 'outbox relay pool error'));
    const registry = opts.registry ?? defaultRegistry;
    const existing = registry.getSingleMetric('steward_outbox_backlog');
    const pool = this.pool;
    this.backlog =
      (existing as Gauge | undefined) ??
      new Gauge({
        name: 'steward_outbox_backlog',
        help: 'Committed events not yet published to JetStream.',
        registers: [registry],
        async collect() {
          try {
            const r = await pool.query<{ n: string }>('SELECT count(*)::text AS n FROM outbox');
            this.set(Number(r.rows[0]?.n ?? 0));
          } catch {
            // keep the last value during a database outage
          }
        },
      });
  }

  async start(): Promise<void> {
    this.timer = setInterval(() => this.wake(), this.pollIntervalMs);
    this.wake();
  }

  /**
   * Publishes rows this process has just committed (pipelined), then queues their deletion. On failure the rows
   * stay in the outbox for the sweep; nothing is lost.
   */
  publishCommitted(msgs: OutboxMessage[]): Promise<void> {
    if (msgs.length === 0 || this.stopped) return Promise.resolve();
    const p = this.publish(msgs);
    this.publishing.add(p);
    void p.finally(() => this.publishing.delete(p));
    return p;
  }

  private async publish(msgs: OutboxMessage[]): Promise<void> {
    try {
      await Promise.all(msgs.map((m) => this.bus.publishRaw({ subject: m.subject, payload: m.payload, msgId: m.eventId, ...(m.headers ? { headers: m.headers } : {}) })));
    } catch (err) {
      this.log.warn({ err, count: msgs.length }, 'publishing after commit failed; the outbox sweep will retry');
      this.sweepLater();
      return;
    }
    for (const m of msgs) this.published.push(m.eventId);
    // Not in the scope of the handler that published: the DELETE is for everybody's rows.
    this.deleteTimer ??= outsideScope(() => setTimeout(() => this.flushDeletes(), this.deleteDelayMs));
  }

  private flushDeletes(): void {
    this.deleteTimer = undefined;
    this.deleting ??= this.deletePublished().finally(() => {
      this.deleting = undefined;
    });
  }

  /** Deletes published rows in batches: ids published while one DELETE runs go in the next. */
  private async deletePublished(): Promise<void> {
    while (this.published.length > 0) {
      const ids = this.published.splice(0, 5000);
      try {
        await this.pool.query('DELETE FROM outbox WHERE event_id = ANY($1::text[])', [ids]);
      } catch (err) {
        // The rows stay; the sweep republishes them (JetStream drops the duplicates) and deletes them.
        this.log.warn({ err, count: ids.length }, 'deleting published outbox rows failed');
        return;
      }
    }
  }

  /** A drain once the rows of a failed publish are past graceMs; failures meanwhile join it. */
  private sweepLater(): void {
    // Not in the scope of the handler whose failed publish asked for it: the sweep publishes everybody's rows.
    this.retryTimer ??= outsideScope(() =>
      setTimeout(() => {
        this.retryTimer = undefined;
        this.wake();
      }, this.retryDelayMs),
    );
  }

  /** Asks for a drain; concurrent wake-ups coalesce into at most one more pass. */
  wake(): void {
    if (this.stopped) return;
    if (this.draining) {
      this.again = true;
      return;
    }
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (!this.stopped && (await this.publishBatch(this.graceMs)) === this.batchSize) {
        // a full batch means there may be more
      }
      this.failures = 0;
    } catch (err) {
      this.failures++;
      this.log.warn({ err, failures: this.failures }, 'outbox relay batch failed; will retry');
      // The poll timer retries; a short back-off avoids hammering a broken NATS or database.
      await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** this.failures, 5000)));
    }
  }

  /** One transaction: lock a batch of rows older than `graceMs`, publish it pipelined, delete it. */
  private async publishBatch(graceMs: number): Promise<number> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<OutboxRow>(
        `SELECT id::text, event_id, subject, payload, headers FROM outbox
          WHERE created_at < now() - make_interval(secs => $2) ORDER BY created_at, id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [this.batchSize, graceMs / 1000],
      );
      if (rows.length === 0) {
        await client.query('COMMIT');
        return 0;
      }
      await Promise.all(rows.map((r) => this.bus.publishRaw({ subject: r.subject, payload: r.payload, msgId: r.event_id, ...(r.headers ? { headers: r.headers } : {}) })));
      await client.query('DELETE FROM outbox WHERE id = ANY($1::bigint[])', [rows.map((r) => r.id)]);
      await client.query('COMMIT');
      return rows.length;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /** Publishes what is committed, then stops. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await Promise.allSettled([...this.publishing]);
    if (this.deleteTimer) clearTimeout(this.deleteTimer);
    await this.draining;
    await this.deleting;
    await this.deletePublished();
    await this.publishBatch(0).catch((err: unknown) => this.log.warn({ err }, 'final outbox flush failed; rows stay for the next relay'));
    await this.pool.end();
  }
}
