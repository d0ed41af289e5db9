import type { OutgoingEvent } from '@steward/contracts';
import type { PrismaClient, TransactionClient } from '../client.js';
import type { OutboxRelay } from './relay.js';

export interface UnitOfWorkContext {
  tx: TransactionClient;
  /** Queues an event to be written to the outbox in this transaction (published only if it commits). */
  emit: (event: OutgoingEvent) => void;
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
    private readonly relay?: Pick<OutboxRelay, 'wake'>,
  ) {}

  async run<T>(fn: (ctx: UnitOfWorkContext) => Promise<T>, opts: { inbox?: InboxKey } = {}): Promise<UnitOfWorkResult<T>> {
    let emitted = 0;
    const result = await this.prisma.$transaction(async (tx): Promise<UnitOfWorkResult<T>> => {
      if (opts.inbox) {
        const { count } = await tx.inbox.createMany({ data: [opts.inbox], skipDuplicates: true });
        if (count === 0) return { duplicate: true };
      }
      const events: OutgoingEvent[] = [];
      const value = await fn({ tx, emit: (e) => events.push(e) });
      if (events.length > 0) {
        await tx.outbox.createMany({
          data: events.map((e) => ({
            eventId: e.envelope.id,
            subject: e.subject,
            payload: JSON.stringify(e.envelope),
            ...(e.envelope.traceparent ? { headers: { traceparent: e.envelope.traceparent } } : {}),
          })),
        });
      }
      emitted = events.length;
      return { duplicate: false, value };
    });
    if (emitted > 0) this.relay?.wake();
    return result;
  }
}
