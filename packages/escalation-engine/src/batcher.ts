// Pure batching of escalations per (tenant, recipient): no timers, the caller passes the time in.
import { z } from 'zod';
import { JsonValue, Urgency } from './schemas.js';

export const BatchItem = z.object({
  decisionId: z.string(),
  tenantId: z.string(),
  recipient: z.string().optional(),
  urgency: Urgency.default('normal'),
  critical: z.boolean().default(false),
  enqueuedAt: z.number(),
  /** Whatever the inbox needs to show (proposal, options, score, reasons); kept as JSON. */
  payload: JsonValue.optional(),
});
export type BatchItem = z.infer<typeof BatchItem>;
export type BatchItemInput = z.input<typeof BatchItem>;

export const BatchReason = z.enum(['size', 'timeout', 'critical', 'flush']);
export type BatchReason = z.infer<typeof BatchReason>;

export const EscalationBatch = z.object({
  id: z.string(),
  tenantId: z.string(),
  recipient: z.string().optional(),
  reason: BatchReason,
  /** Time the oldest item was enqueued. */
  openedAt: z.number(),
  sentAt: z.number(),
  items: z.array(BatchItem),
});
export type EscalationBatch = z.infer<typeof EscalationBatch>;

export const BatcherConfig = z.object({
  batchSize: z.number().int().positive().default(5),
  batchTimeoutMs: z.number().int().nonnegative().default(300_000),
});
export type BatcherConfig = z.infer<typeof BatcherConfig>;

export const BatcherState = z.object({
  seq: z.number().int(),
  groups: z.array(z.object({ key: z.string(), tenantId: z.string(), recipient: z.string().optional(), items: z.array(BatchItem) })),
});
export type BatcherState = z.infer<typeof BatcherState>;

const URGENCY_RANK: Record<Urgency, number> = { critical: 0, high: 1, normal: 2, low: 3 };

/** Most urgent first, then oldest first, then decision id so the order is total. */
export function orderItems(items: readonly BatchItem[]): BatchItem[] {
  return [...items].sort(
    (a, b) =>
      URGENCY_RANK[a.urgency] - URGENCY_RANK[b.urgency] ||
      Number(b.critical) - Number(a.critical) ||
      a.enqueuedAt - b.enqueuedAt ||
      (a.decisionId < b.decisionId ? -1 : a.decisionId > b.decisionId ? 1 : 0),
  );
}

export class Batcher {
  readonly config: BatcherConfig;
  private state: BatcherState;

  constructor(config: Partial<BatcherConfig> = {}, state?: BatcherState) {
    this.config = BatcherConfig.parse(config);
    this.state = state ? BatcherState.parse(structuredClone(state)) : { seq: 0, groups: [] };
  }

  static groupKey(tenantId: string, recipient: string | undefined): string {
    return `${tenantId}\u0000${recipient ?? ''}`;
  }

  /** Enqueues one escalation; returns the batches to send now (this item's group and any timed-out ones). */
  add(input: BatchItemInput, now: number): EscalationBatch[] {
    const item = BatchItem.parse(input);
    const key = Batcher.groupKey(item.tenantId, item.recipient);
    let group = this.state.groups.find((g) => g.key === key);
    if (!group) {
      group = { key, tenantId: item.tenantId, ...(item.recipient === undefined ? {} : { recipient: item.recipient }), items: [] };
      this.state.groups.push(group);
    }
    if (group.items.some((i) => i.decisionId === item.decisionId)) return this.due(now);
    group.items.push(item);
    const out: EscalationBatch[] = [];
    if (item.critical || item.urgency === 'critical') out.push(this.send(group, 'critical', now, group.items.length));
    else if (group.items.length >= this.config.batchSize) out.push(this.send(group, 'size', now, this.config.batchSize));
    out.push(...this.due(now));
    return out;
  }

  /** Batches whose oldest item has waited batchTimeoutMs by `now`. */
  due(now: number): EscalationBatch[] {
    const out: EscalationBatch[] = [];
    for (const group of [...this.state.groups]) {
      if (group.items.length === 0) continue;
      const oldest = Math.min(...group.items.map((i) => i.enqueuedAt));
      if (oldest + this.config.batchTimeoutMs <= now) out.push(this.send(group, 'timeout', now, group.items.length));
    }
    this.state.groups = this.state.groups.filter((g) => g.items.length > 0);
    return out;
  }

  /** Sends everything waiting (shutdown, end of a simulation). */
  flush(now: number): EscalationBatch[] {
    const out: EscalationBatch[] = [];
    for (const group of this.state.groups) if (group.items.length > 0) out.push(this.send(group, 'flush', now, group.items.length));
    this.state.groups = [];
    return out;
  }

  /** Takes everything waiting for one (tenant, recipient), e.g. to let non-blocking audits ride along with a batch. */
  take(tenantId: string, recipient: string | undefined): BatchItem[] {
    const key = Batcher.groupKey(tenantId, recipient);
    const group = this.state.groups.find((g) => g.key === key);
    if (!group) return [];
    const items = orderItems(group.items);
    this.state.groups = this.state.groups.filter((g) => g.key !== key);
    return items;
  }

  /** Earliest time at which due() will return a batch, if anything waits. */
  nextDueAt(): number | undefined {
    let next: number | undefined;
    for (const g of this.state.groups) for (const i of g.items) next = Math.min(next ?? Infinity, i.enqueuedAt + this.config.batchTimeoutMs);
    return next;
  }

  pending(): number {
    return this.state.groups.reduce((n, g) => n + g.items.length, 0);
  }

  private send(group: BatcherState['groups'][number], reason: BatchReason, now: number, count: number): EscalationBatch {
    // The oldest items leave first: a size-triggered batch takes the batchSize longest-waiting items.
    const byAge = [...group.items].sort((a, b) => a.enqueuedAt - b.enqueuedAt);
    const taken = reason === 'critical' ? byAge : byAge.slice(0, count);
    const takenIds = new Set(taken.map((i) => i.decisionId));
    group.items = group.items.filter((i) => !takenIds.has(i.decisionId));
    this.state.seq++;
    return {
      id: `batch-${this.state.seq}`,
      tenantId: group.tenantId,
      ...(group.recipient === undefined ? {} : { recipient: group.recipient }),
      reason,
      openedAt: Math.min(...taken.map((i) => i.enqueuedAt)),
      sentAt: now,
      items: orderItems(taken),
    };
  }

  /** Plain JSON state to persist; `new Batcher(config, state)` resumes it. */
  snapshot(): BatcherState {
    return structuredClone(this.state);
  }
}
