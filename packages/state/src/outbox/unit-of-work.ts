import type { OutgoingEvent } from '@steward/contracts';
import type pg from 'pg';
import type { PrismaClient, TransactionClient } from '../client.js';
import { Prisma } from '../generated/prisma/client.js';
import { PgSqlClient, pgTransaction, type SqlClient, type StatementNamer } from '../sql-client.js';
import type { OutboxMessage, OutboxRelay } from './relay.js';

/** A transaction's handle (`tx`: Prisma's transaction client, or only raw SQL for `sqlTransaction`) and its outbox. */
export interface UnitOfWorkContext<Tx extends SqlClient = TransactionClient> {
  tx: Tx;
  /** Queues an event to be written to the outbox in this transaction (published only if it commits). */
  emit: (event: OutgoingEvent) => void;
  /**
   * Hands the events queued so far to a caller that writes them to the outbox in its own statement (saving a round
   * trip); they are published after commit like the rest. Whatever is emitted later is written as usual.
   */
  takeOutbox: () => OutboxMessage[];
  /**
   * Runs a statement whose result the handler does not read (its final write): on node-postgres it is held back until
   * the next statement or the COMMIT and sent with it, which saves a round trip when it is the last; with Prisma it
   * runs at once. Either way it runs in order with the rest.
   */
  executeDeferred: (statement: Prisma.Sql) => Promise<void>;
  /**
   * Runs `fn` once the transaction has committed, before its events are published (so what it records is in place
   * when anything caused by those events comes back); never if it rolls back. For in-memory bookkeeping: it must not
   * throw.
   */
  afterCommit: (fn: () => void) => void;
}

export interface InboxKey {
  /** The consuming durable's name. */
  consumer: string;
  /** The event id being handled. */
  eventId: string;
}

export type UnitOfWorkResult<T> = { duplicate: true } | { duplicate: false; value: T };

/**
 * One transaction = state change + inbox record + outbox rows. A redelivered event finds its inbox row and is
 * skipped; emitted events are published by the relay only after commit (durability rules 2 and 3).
 */
export class UnitOfWork {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly relay?: Pick<OutboxRelay, 'publishCommitted'>,
    /** The pool under `prisma`, for `sqlTransaction` to run on node-postgres directly; without it, it uses Prisma. */
    private readonly raw?: { pool: pg.Pool; statementName: StatementNamer },
  ) {}

  async run<T>(fn: (ctx: UnitOfWorkContext) => Promise<T>, opts: { inbox?: InboxKey } = {}): Promise<UnitOfWorkResult<T>> {
    const { inbox } = opts;
    return this.transaction(async (ctx) => {
      if (inbox && (await claimInbox(ctx.tx, inbox.consumer, [inbox.eventId])).size === 0) return { duplicate: true };
      return { duplicate: false, value: await fn(ctx) };
    });
  }

  /**
   * Handles many events in one transaction: `fn` receives the ids not seen before by `consumer` (the rest are
   * redeliveries) and must act on those only. One commit for the batch is what makes batches fast.
   */
  async runBatch<T>(consumer: string, eventIds: readonly string[], fn: (ctx: UnitOfWorkContext, fresh: ReadonlySet<string>) => Promise<T>): Promise<T> {
    return this.transaction(async (ctx) => fn(ctx, await claimInbox(ctx.tx, consumer, eventIds)));
  }

  /** `runBatch` for handlers that only run raw SQL (see `sqlTransaction`). */
  async sqlRunBatch<T>(consumer: string, eventIds: readonly string[], fn: (ctx: UnitOfWorkContext<SqlClient>, fresh: ReadonlySet<string>) => Promise<T>): Promise<T> {
    return this.sqlTransaction(async (ctx) => fn(ctx, await claimInbox(ctx.tx, consumer, eventIds)));
  }

  /** One transaction with the outbox and no inbox (work not triggered by an event: API calls, timers). */
  async transaction<T>(fn: (ctx: UnitOfWorkContext) => Promise<T>): Promise<T> {
    return this.within((body) => this.prisma.$transaction(body), fn);
  }

  /**
   * `transaction` for work that only runs raw SQL (`$queryRaw`, `$executeRaw`): on node-postgres directly, which
   * saves Prisma's cost per statement (about 1 ms per transaction of four statements, BEGIN and COMMIT included).
   */
  async sqlTransaction<T>(fn: (ctx: UnitOfWorkContext<SqlClient>) => Promise<T>): Promise<T> {
    const { raw } = this;
    if (raw === undefined) return this.transaction(fn);
    return this.within((body) => pgTransaction(raw.pool, raw.statementName, body), fn);
  }

  private async within<Tx extends SqlClient, T>(begin: (body: (tx: Tx) => Promise<T>) => Promise<T>, fn: (ctx: UnitOfWorkContext<Tx>) => Promise<T>): Promise<T> {
    let committed: OutboxMessage[] = [];
    let hooks: (() => void)[] = [];
    const result = await begin(async (tx) => {
      hooks = []; // a retried body starts over
      const events: OutgoingEvent[] = [];
      const taken: OutboxMessage[] = [];
      const takeOutbox = () => {
        const rows = events.splice(0).map(outboxRow);
        taken.push(...rows);
        return rows;
      };
      const executeDeferred = async (statement: Prisma.Sql): Promise<void> => {
        if (tx instanceof PgSqlClient) await tx.defer(statement);
        else await tx.$executeRaw(statement);
      };
      const value = await fn({ tx, emit: (e) => events.push(e), takeOutbox, executeDeferred, afterCommit: (f) => hooks.push(f) });
      const rows = events.map(outboxRow);
      if (rows.length > 0) await executeDeferred(outboxInsert(rows));
      committed = [...taken, ...rows];
      return value;
    });
    // After commit only: a rolled-back transaction publishes nothing.
    for (const hook of hooks) hook();
    await this.relay?.publishCommitted(committed);
    return result;
  }

  /**
   * A change made by one SQL statement, which commits by itself (no BEGIN and COMMIT round trips), together with
   * its events' outbox rows: `write` receives the outbox INSERT and must run it in that same statement (as the
   * main statement of a `WITH … AS (change)`), so both commit or neither. The events are published after it returns;
   * with `awaitPublish: false` it resolves once committed and publishes meanwhile (the outbox row is the guarantee:
   * a publish that fails or is cut short by a crash is made by the sweep).
   */
  async statement<T>(events: readonly OutgoingEvent[], write: (db: SqlClient, outbox: Prisma.Sql) => PromiseLike<T>, opts: { awaitPublish?: boolean } = {}): Promise<T> {
    const rows = events.map(outboxRow);
    const value = await this.autocommit(async (db) => write(db, outboxInsert(rows)));
    const published = this.relay?.publishCommitted(rows);
    if (opts.awaitPublish !== false) await published;
    return value;
  }

  /** Statements outside any transaction (each commits by itself), on node-postgres directly when there is a pool. */
  private async autocommit<T>(fn: (db: SqlClient) => Promise<T>): Promise<T> {
    if (this.raw === undefined) return fn(this.prisma);
    const client = await this.raw.pool.connect();
    try {
      return await fn(new PgSqlClient(client, this.raw.statementName));
    } finally {
      client.release();
    }
  }
}

/** The INSERT of outbox rows, as a fragment for a statement of one's own. */
export function outboxInsert(rows: readonly OutboxMessage[]): Prisma.Sql {
  return Prisma.sql`
    INSERT INTO outbox (event_id, subject, payload, headers)
    SELECT * FROM unnest(${rows.map((r) => r.eventId)}::text[], ${rows.map((r) => r.subject)}::text[], ${rows.map((r) => r.payload)}::text[], ${rows.map((r) => (r.headers ? JSON.stringify(r.headers) : null))}::jsonb[])`;
}

const outboxRow = (e: OutgoingEvent): OutboxMessage => ({
  eventId: e.envelope.id,
  subject: e.subject,
  payload: JSON.stringify(e.envelope),
  ...(e.envelope.traceparent ? { headers: { traceparent: e.envelope.traceparent } } : {}),
});

/** Records (consumer, event id) pairs; returns the ids that were new. */
async function claimInbox(tx: SqlClient, consumer: string, eventIds: readonly string[]): Promise<Set<string>> {
  const rows = await tx.$queryRaw<{ event_id: string }[]>`
    INSERT INTO inbox (consumer, event_id) SELECT ${consumer}, unnest(${eventIds}::text[])
    ON CONFLICT DO NOTHING RETURNING event_id`;
  return new Set(rows.map((r) => r.event_id));
}
