import { Inject, Injectable } from '@nestjs/common';
import type { OutgoingEvent } from '@steward/contracts';
import { ServiceRuntime } from '@steward/service-kit';
import type { Prisma } from '@steward/state';

interface PendingWrite {
  row: Prisma.TaskCreateManyInput;
  event: OutgoingEvent;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** A submission named a session that is no longer active (paused or closed since the request was checked). */
export class SessionNotActiveError extends Error {
  constructor(readonly sessionIds: string[]) {
    super(`session ${sessionIds.join(', ')} is not active`);
  }
}

const MAX_BATCH = 256;
const MAX_IN_FLIGHT = 4;

/**
 * Group commit for submissions: requests arriving while earlier transactions are in flight are written together
 * (tasks + their task.submitted outbox rows in one transaction). Each caller's promise settles with its own row's
 * fate: if a batch fails, its rows are retried one by one, so one bad row (a reused idempotency key) fails alone.
 */
@Injectable()
export class TaskWriter {
  private queue: PendingWrite[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(@Inject(ServiceRuntime) private readonly runtime: ServiceRuntime) {}

  write(row: Prisma.TaskCreateManyInput, event: OutgoingEvent): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ row, event, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= MAX_IN_FLIGHT || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queue.splice(0, MAX_BATCH);
    if (batch.length === 0) return;
    this.inFlight++;
    this.schedule(); // more may be queued than one batch holds
    try {
      await this.commit(batch);
      for (const w of batch) w.resolve();
    } catch (err) {
      if (batch.length === 1) batch[0]!.reject(err);
      else {
        for (const w of batch) {
          try {
            await this.commit([w]);
            w.resolve();
          } catch (e) {
            w.reject(e);
          }
        }
      }
    } finally {
      this.inFlight--;
      this.schedule();
    }
  }

  private async commit(batch: PendingWrite[]): Promise<void> {
    await this.runtime.uow.transaction(async ({ tx, emit }) => {
      const sessions = [...new Set(batch.flatMap((w) => (w.row.sessionId ? [w.row.sessionId] : [])))];
      if (sessions.length > 0) {
        // A share lock on each session until commit: a pause or close waits for these tasks, or these see it.
        const active = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM sessions WHERE id = ANY(${sessions}::text[]) AND status = 'active' FOR SHARE`;
        if (active.length < sessions.length) throw new SessionNotActiveError(sessions.filter((id) => !active.some((a) => a.id === id)));
      }
      await tx.task.createMany({ data: batch.map((w) => w.row) });
      for (const w of batch) emit(w.event);
    });
  }
}
