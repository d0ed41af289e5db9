// Fixtures for the audit, live-update and webhook tests: tasks and events of a tenant published straight onto the
// bus (as the services would), and a small server-sent events client over fetch.
import { makeEvent, type Envelope, type OutgoingEvent } from '@steward/contracts';
import { randomUUID } from 'node:crypto';
import type { TestGateway } from './gateway-app.js';

/** A task row of `tenantId` (the routes check the task is the tenant's). */
export async function createTask(gw: TestGateway, tenantId: string): Promise<string> {
  const id = randomUUID();
  await gw.runtime.prisma.tenant.upsert({ where: { id: tenantId }, create: { id: tenantId, name: tenantId }, update: {} });
  await gw.runtime.prisma.task.create({ data: { id, tenantId, kind: 'skill', skill: 'echo', input: {} } });
  return id;
}

const ctx = (tenantId: string, taskId: string) => ({ source: 'steward/test', tenantId, correlationId: taskId });

/** A progress event of the task (step `i` started). */
export const progress = (tenantId: string, taskId: string, i: number): OutgoingEvent =>
  makeEvent('step.run.started.v1', { runId: taskId, stepRunId: randomUUID(), stepPath: `step-${i}`, attempt: 1 }, ctx(tenantId, taskId));

export const completed = (tenantId: string, taskId: string): OutgoingEvent =>
  makeEvent('task.completed.v1', { taskId, output: { ok: true }, completedAt: new Date().toISOString() }, ctx(tenantId, taskId));

export const batchReady = (tenantId: string, correlationId = randomUUID()): OutgoingEvent =>
  makeEvent('escalation.batch.ready.v1', { batchId: randomUUID(), tenantId, recipient: 'person', trigger: 'size', decisionIds: [randomUUID()] }, ctx(tenantId, correlationId));

/** Publishes the events one after the other (stream order = array order); returns their ids. */
export async function publish(gw: TestGateway, events: OutgoingEvent[]): Promise<string[]> {
  for (const e of events) await gw.runtime.bus.publish(e);
  return events.map((e) => e.envelope.id);
}

export interface SseMessage {
  id?: string;
  event?: string;
  data: string;
}

/** One server-sent events connection read with fetch (as the CLI and the inbox page do: the key in a header). */
export class SseClient {
  /** Every client opened (a test's afterEach closes them). */
  static readonly opened: SseClient[] = [];
  readonly messages: SseMessage[] = [];
  readonly comments: string[] = [];
  status = 0;
  ended = false;
  private readonly abort = new AbortController();
  private buffer = '';
  private waiters: (() => void)[] = [];
  private done: Promise<void> = Promise.resolve();

  static async open(gw: TestGateway, path: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const c = new SseClient();
    SseClient.opened.push(c);
    const res = await fetch(`${gw.url}${path}`, { headers: { accept: 'text/event-stream', ...headers }, signal: c.abort.signal });
    c.status = res.status;
    if (res.status !== 200 || !res.body) {
      c.ended = true;
      await res.body?.cancel();
      return c;
    }
    c.done = c.read(res.body);
    return c;
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        this.buffer += decoder.decode(chunk, { stream: true });
        let i: number;
        while ((i = this.buffer.indexOf('\n\n')) >= 0) {
          const block = this.buffer.slice(0, i);
          this.buffer = this.buffer.slice(i + 2);
          const msg: SseMessage = { data: '' };
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) this.comments.push(line.slice(1).trim());
            else if (line.startsWith('id: ')) msg.id = line.slice(4);
            else if (line.startsWith('event: ')) msg.event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length > 0) {
            msg.data = data.join('\n');
            this.messages.push(msg);
          }
        }
        this.wake();
      }
    } catch {
      // aborted by close()
    } finally {
      this.ended = true;
      this.wake();
    }
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Stream events (with an id) received so far, parsed. */
  events(): { sequence: number; event: Envelope }[] {
    return this.messages.filter((m) => m.id !== undefined).map((m) => ({ sequence: Number(m.id), event: JSON.parse(m.data) as Envelope }));
  }

  /** Waits until `pred` holds (checked on every chunk), or fails after `timeoutMs`. */
  async until(pred: (c: SseClient) => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this)) {
      if (this.ended && !pred(this)) throw new Error(`stream ended; got ${this.messages.length} messages`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; got ${this.messages.length} messages`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /**
   * Disconnects (as a client that goes away). Waits for the reader to finish, but at most 2 s: a reader that an
   * abort does not wake (seen once, after the stream had ended) must not hang the test's cleanup.
   */
  async close(): Promise<void> {
    this.abort.abort();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.done, new Promise<void>((resolve) => (timer = setTimeout(resolve, 2000)))]);
    clearTimeout(timer);
  }
}
