// steward events replay | tail: the audit trail, read from the retained event stream through the gateway
// (GET /v1/tasks/:id/events, GET /v1/audit/events, and the task's live stream GET /v1/tasks/:id/stream).
// With --json each line is one CloudEvent as stored, plus its stream position as the `sequence` extension.
import { z } from 'zod';
import type { ApiClient } from '../api/client.js';
import { ApiRequestError } from '../api/client.js';
import { CloudEvent } from '../api/schemas.js';
import { sseMessages } from '../api/sse.js';
import type { Ctx } from '../context.js';
import { CliError, EXIT } from '../errors.js';
import { eventName, formatEventLine } from '../format.js';
import type { Out } from '../output.js';

export interface EventsOptions {
  task?: string;
  type?: string[];
  after?: number;
  since?: string;
  limit?: number;
  /** Poll interval in ms for the tenant-wide tail (default 1000). */
  interval?: number;
  json?: boolean;
}

const FINAL = new Set(['task.completed', 'task.failed', 'task.cancelled']);

const AuditPage = z.looseObject({
  events: z.array(z.looseObject({ sequence: z.number(), event: CloudEvent })),
  next: z.number(),
  more: z.boolean(),
});

/** Whether `type` is one of the selectors: an event name (`task.completed`, any version) or a full type. */
export const typeMatches = (type: string, selectors: readonly string[]): boolean => selectors.length === 0 || selectors.some((s) => s === type || s === eventName(type));

/** What one event becomes on stdout: a JSON line (the CloudEvent with `sequence`), or a readable line. */
export function eventOutput(sequence: number, event: CloudEvent, json: boolean, out: Pick<Out, 'style'>): string {
  return json ? JSON.stringify({ ...event, sequence: String(sequence) }) : formatEventLine({ seq: sequence, event }, out.style);
}

function pagePath(o: EventsOptions): string {
  return o.task !== undefined ? `/v1/tasks/${encodeURIComponent(o.task)}/events` : '/v1/audit/events';
}

async function readPage(client: ApiClient, o: EventsOptions, after: number | undefined, since: string | undefined, limit: number): Promise<z.infer<typeof AuditPage>> {
  const types = o.type ?? [];
  const query =
    o.task !== undefined
      ? { after, limit }
      : { after, since: after === undefined ? since : undefined, types: types.length ? types.join(',') : undefined, limit: Math.min(limit, 1000) };
  return client.get(pagePath(o), AuditPage, query);
}

function checkOptions(o: EventsOptions): void {
  if (o.after !== undefined && o.since !== undefined) throw new CliError('give --after or --since, not both', EXIT.usage);
  if (o.task !== undefined && o.since !== undefined) throw new CliError("--since applies to the tenant's events; with --task use --after", EXIT.usage);
  if (o.since !== undefined && Number.isNaN(Date.parse(o.since))) throw new CliError(`--since ${o.since}: give an ISO time such as 2026-12-02T10:00:00Z`, EXIT.usage);
}

export async function replayEvents(ctx: Ctx, o: EventsOptions): Promise<void> {
  checkOptions(o);
  const client = await ctx.client();
  const out = ctx.out(o.json);
  const max = o.limit ?? Infinity;
  const types = o.type ?? [];
  let after = o.after;
  let printed = 0;
  let since = o.since !== undefined ? new Date(o.since).toISOString() : undefined;
  for (;;) {
    const page = await readPage(client, o, after, since, Math.min(1000, max - printed));
    since = undefined;
    for (const { sequence, event } of page.events) {
      if (!typeMatches(event.type, types)) continue;
      out.line(eventOutput(sequence, event, out.json, out));
      if (++printed >= max) break;
    }
    after = page.next;
    if (!page.more || printed >= max) break;
  }
  if (!out.json) out.note(out.errStyle.dim(`${printed} event${printed === 1 ? '' : 's'}${after !== undefined ? `; continue with --after ${after}` : ''}`));
}

export async function tailEvents(ctx: Ctx, o: EventsOptions): Promise<void> {
  checkOptions(o);
  const client = await ctx.client();
  const out = ctx.out(o.json);
  if (o.task !== undefined) {
    try {
      await tailTaskLive(client, o.task, o, out);
      return;
    } catch (err) {
      if (!(err instanceof ApiRequestError && err.routeMissing)) throw err;
      // No live stream on this gateway: poll the task's events instead.
    }
  }
  await tailByPolling(ctx, client, o, out);
}

/** A task's events from its start (or --after), live, until its final event. */
async function tailTaskLive(client: ApiClient, taskId: string, o: EventsOptions, out: Out): Promise<void> {
  const types = o.type ?? [];
  for await (const msg of sseMessages(client, `/v1/tasks/${encodeURIComponent(taskId)}/stream`, { ...(o.after !== undefined ? { query: { after: String(o.after) } } : {}) })) {
    if (msg.event === 'end') {
      if (!out.json) {
        let status = '';
        try {
          const d = JSON.parse(msg.data) as { status?: unknown };
          if (typeof d.status === 'string') status = d.status;
        } catch {
          // no detail
        }
        out.note(out.errStyle.dim(`task ${taskId} ended${status ? ` (${status})` : ''}`));
      }
      return;
    }
    if (msg.event !== 'message' || msg.id === undefined) continue;
    let parsed;
    try {
      parsed = CloudEvent.safeParse(JSON.parse(msg.data));
    } catch {
      continue;
    }
    if (!parsed.success || !typeMatches(parsed.data.type, types)) continue;
    out.line(eventOutput(Number(msg.id), parsed.data, out.json, out));
  }
}

/** The tenant's events (or a task's, on a gateway without streams) from now (or --after/--since), polled. */
async function tailByPolling(ctx: Ctx, client: ApiClient, o: EventsOptions, out: Out): Promise<void> {
  const types = o.type ?? [];
  let after = o.after;
  let since = o.since !== undefined ? new Date(o.since).toISOString() : after === undefined && o.task === undefined ? new Date(ctx.now()).toISOString() : undefined;
  for (;;) {
    const page = await readPage(client, o, after, since, 1000);
    since = undefined;
    for (const { sequence, event } of page.events) {
      if (typeMatches(event.type, types)) out.line(eventOutput(sequence, event, out.json, out));
      if (o.task !== undefined && FINAL.has(eventName(event.type))) return;
    }
    after = page.next;
    if (!page.more) await new Promise((r) => setTimeout(r, o.interval ?? 1000));
  }
}
