import { Inject, Injectable } from '@nestjs/common';
import type { OutgoingEvent } from '@steward/contracts';
import { ServiceRuntime } from '@steward/service-kit';
import { Prisma } from '@steward/state';

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
    const sessions = [...new Set(batch.flatMap((w) => (w.row.sessionId ? [w.row.sessionId] : [])))];
    if (sessions.length === 0) {
      // The common case: the tasks and their outbox rows in one statement that commits by itself (one round trip).
      const col = <T>(f: (row: Prisma.TaskCreateManyInput) => T): T[] => batch.map((w) => f(w.row));
      await this.runtime.uow.statement(
        batch.map((w) => w.event),
        (db, outbox) => db.$executeRaw`
          WITH created AS (
            INSERT INTO tasks (id, tenant_id, kind, skill, workflow_name, workflow_version, input, status, idempotency_key, created_at, updated_at)
            SELECT v.id, v.tenant_id, v.kind::task_kind, v.skill, v.workflow_name, v.workflow_version, v.input::jsonb, 'pending', v.idempotency_key, v.created_at, v.created_at
              FROM unnest(${col((r) => r.id)}::text[], ${col((r) => r.tenantId)}::text[], ${col((r) => r.kind)}::text[], ${col((r) => r.skill ?? null)}::text[],
                          ${col((r) => r.workflowName ?? null)}::text[], ${col((r) => r.workflowVersion ?? null)}::int[], ${col((r) => jsonText(r.input))}::text[],
                          ${col((r) => r.idempotencyKey ?? null)}::text[], ${col((r) => createdAt(r))}::timestamptz[])
                AS v(id, tenant_id, kind, skill, workflow_name, workflow_version, input, idempotency_key, created_at)
          )
          ${outbox}`,
        // 202 once committed: the client does not wait for JetStream's acknowledgement of the event.
        { awaitPublish: false },
      );
      return;
    }
    await this.runtime.uow.transaction(async ({ tx, emit }) => {
      // A share lock on each session until commit: a pause or close waits for these tasks, or these see it.
      const active = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM sessions WHERE id = ANY(${sessions}::text[]) AND status = 'active' FOR SHARE`;
      if (active.length < sessions.length) throw new SessionNotActiveError(sessions.filter((id) => !active.some((a) => a.id === id)));
      await tx.task.createMany({ data: batch.map((w) => w.row) });
      for (const w of batch) emit(w.event);
    });
  }
}

/** A Json column's value as JSON text (JSON null for Prisma's null marker). */
const jsonText = (v: Prisma.TaskCreateManyInput['input']): string => (v === Prisma.JsonNull ? 'null' : JSON.stringify(v));
const createdAt = (r: Prisma.TaskCreateManyInput): Date => (r.createdAt === undefined ? new Date() : new Date(r.createdAt));
