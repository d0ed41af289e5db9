import pg from 'pg';
import { Gauge, type Registry, register as defaultRegistry } from 'prom-client';
import { silentLogger, type Bus, type Logger } from '@steward/bus';

export interface OutboxRelayOptions {
  databaseUrl: string;
  /** PostgreSQL schema holding the outbox table (tests use one schema each). */
  schema?: string;
  /** Rows published per transaction; publishes inside a batch are pipelined. */
  batchSize?: number;
  /** Fallback poll when no NOTIFY arrives (lost notification, relay of another service). */
  pollIntervalMs?: number;
  /**
   * A NOTIFY usually announces rows that the committing process's own relay publishes at once; other relays look
   * only after this delay, so a busy system does not make every relay query the outbox on every commit.
   */
  notifyDelayMs?: number;
  log?: Logger;
  registry?: Registry;
}

interface OutboxRow {
  id: string;
  event_id: string;
  subject: string;
  payload: string;
  headers: Record<string, string> | null;
}

export const OUTBOX_CHANNEL = 'steward_outbox';

/**
 * Publishes committed outbox rows to JetStream with Nats-Msg-Id = event id, then deletes them.
 * Woken in-process after a commit, by LISTEN/NOTIFY from other processes, and by a poll as a fallback.
 * Several relays may run at once: FOR UPDATE SKIP LOCKED gives each row to one of them.
 */
export class OutboxRelay {
  private readonly pool: pg.Pool;
  private listener: pg.Client | undefined;
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
  private notifyTimer: NodeJS.Timeout | undefined;
  private readonly notifyDelayMs: number;

  constructor(
    private readonly bus: Bus,
    private readonly opts: OutboxRelayOptions,
  ) {
    this.schema = opts.schema ?? 'public';
    this.batchSize = opts.batchSize ?? 500;
    this.pollIntervalMs = opts.pollIntervalMs ?? 1000;
    this.log = opts.log ?? silentLogger;
    this.notifyDelayMs = opts.notifyDelayMs ?? 50;
    this.pool = new pg.Pool({ connectionString: opts.databaseUrl, max: 2, options: `-c search_path="${this.schema}"` });
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
    await this.listen();
    this.timer = setInterval(() => this.wake(), this.pollIntervalMs);
    this.wake();
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.opts.databaseUrl });
    client.on('notification', (n) => {
      if (n.payload === this.schema) this.wakeSoon();
    });
    client.on('error', (err) => {
      this.log.warn({ err }, 'outbox LISTEN connection lost; polling until it is back');
      this.listener = undefined;
      client.end().catch(() => undefined);
      if (!this.stopped) setTimeout(() => void this.listen().catch(() => undefined), 1000);
    });
    await client.connect();
    await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
    this.listener = client;
  }

  /** A drain after notifyDelayMs; notifications arriving meanwhile join it. */
  private wakeSoon(): void {
    this.notifyTimer ??= setTimeout(() => {
      this.notifyTimer = undefined;
      this.wake();
    }, this.notifyDelayMs);
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
      while (!this.stopped && (await this.publishBatch()) === this.batchSize) {
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

  /** One transaction: lock a batch, publish it pipelined, delete it. Returns the number of rows published. */
  private async publishBatch(): Promise<number> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<OutboxRow>(
        'SELECT id::text, event_id, subject, payload, headers FROM outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED',
        [this.batchSize],
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
    if (this.timer) clearInterval(this.timer);
    if (this.notifyTimer) clearTimeout(this.notifyTimer);
    await this.draining;
    await this.publishBatch().catch((err: unknown) => this.log.warn({ err }, 'final outbox flush failed; rows stay for the next relay'));
    this.stopped = true;
    await this.listener?.end().catch(() => undefined);
    await this.pool.end();
  }
}
