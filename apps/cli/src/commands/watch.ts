// steward watch <taskId>: the task's progress until it is final. The live stream (GET /v1/tasks/:id/stream, SSE)
// wakes the display on every event when the gateway has it; otherwise the CLI polls. Either way the numbers come
// from the task, its runs and their step runs (GET /v1/tasks/:id, /v1/tasks/:id/runs, /v1/runs/:id).
import type { ApiClient } from '../api/client.js';
import { ApiRequestError } from '../api/client.js';
import { CloudEvent, isFinal, Run, Task, TaskRuns, type RunSummary } from '../api/schemas.js';
import { sseMessages } from '../api/sse.js';
import type { Ctx } from '../context.js';
import { CliError, EXIT, ExitWith } from '../errors.js';
import { formatDuration } from '../format.js';
import type { Out } from '../output.js';
import { computeProgress, finalLines, progressLine, progressText } from '../progress.js';

export interface WatchOptions {
  json?: boolean;
  /** Poll interval in ms when there is no live stream (default 500). */
  interval?: number;
  /** Give up (exit 124) after this many seconds; the task goes on. */
  timeout?: number;
  /** Do not use the live stream, poll only. */
  poll?: boolean;
}

const RUN_FINAL = new Set(['completed', 'failed', 'cancelled']);

/** Sleeps until the time is up or someone pokes it (an event arrived). */
class Waker {
  private wake: (() => void) | undefined;
  private pending = false;

  sleep(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  poke(): void {
    const w = this.wake;
    this.wake = undefined;
    if (w) w();
    else this.pending = true;
  }
}

interface State {
  task: Task;
  runs: Map<string, Run>;
  lastEvent?: string;
  live: 'connecting' | 'live' | 'polling';
}

async function refresh(client: ApiClient, st: State): Promise<void> {
  st.task = await client.get(`/v1/tasks/${encodeURIComponent(st.task.taskId)}`, Task);
  if (st.task.kind !== 'workflow') return;
  const { runs } = await client.get(`/v1/tasks/${encodeURIComponent(st.task.taskId)}/runs`, TaskRuns);
  const stale = runs.filter((r: RunSummary) => {
    const cached = st.runs.get(r.id);
    return !cached || !RUN_FINAL.has(cached.status) || cached.updatedAt !== r.updatedAt;
  });
  const fetched = await Promise.all(stale.map((r) => client.get(`/v1/runs/${encodeURIComponent(r.id)}`, Run)));
  for (const r of fetched) st.runs.set(r.id, r);
}

/** Watches until the task is final and returns it; draws progress on `out` unless it is in JSON mode. */
export async function followTask(ctx: Ctx, client: ApiClient, taskId: string, out: Out, o: WatchOptions): Promise<Task> {
  const first = await client.get(`/v1/tasks/${encodeURIComponent(taskId)}`, Task);
  const st: State = { task: first, runs: new Map(), live: o.poll ? 'polling' : 'connecting' };
  if (isFinal(st.task.status)) {
    if (st.task.kind === 'workflow') await refresh(client, st);
    return st.task;
  }
  const waker = new Waker();
  const abort = new AbortController();
  const started = ctx.now();
  const deadline = o.timeout !== undefined ? started + o.timeout * 1000 : Infinity;
  const show = !out.json;
  const tty = show && out.tty;
  const elapsed = (): number => Math.max(0, (st.task.completedAt ? Date.parse(st.task.completedAt) : ctx.now()) - Date.parse(st.task.createdAt));
  let frame = 0;
  let lastText = '';
  const told = new Set<string>();
  const draw = (): void => {
    if (!show) return;
    const p = computeProgress(st.task, [...st.runs.values()], st.lastEvent);
    // A parked step waits for an operator: say once what can be done about it.
    for (const run of st.runs.values()) {
      for (const step of run.steps) {
        if (step.status !== 'parked' || told.has(step.id)) continue;
        told.add(step.id);
        const err = step.error as { code?: string; message?: string } | undefined;
        if (tty) out.raw('\r\x1b[2K');
        out.note(
          `step ${step.stepPath} parked${err?.code ? ` (${err.code}: ${err.message ?? ''})` : ''}; the run waits for an operator: ` +
            `POST /v1/runs/${run.id}/steps/${encodeURIComponent(step.stepPath)}/retry or …/skip, or \`steward tasks cancel ${st.task.taskId}\``,
        );
      }
    }
    if (tty) {
      out.raw(`\r\x1b[2K${progressLine(p, elapsed(), frame++, out.columns, out.style)}`);
    } else {
      const text = progressText(p);
      if (text !== lastText) {
        lastText = text;
        out.line(`[${formatDuration(elapsed()).padStart(7)}] ${p.target} ${text}`);
      }
    }
  };
  const ticker = tty ? setInterval(draw, 120) : undefined;
  const onSigint = (): void => {
    abort.abort();
    if (ticker) clearInterval(ticker);
    if (tty) out.raw('\r\x1b[2K');
    out.note(`stopped watching; task ${taskId} goes on (steward watch ${taskId})`);
    process.exit(EXIT.interrupted);
  };
  process.once('SIGINT', onSigint);

  // The live stream: each event wakes the loop below; its absence (404 on an older gateway) means polling.
  const live = o.poll
    ? Promise.resolve()
    : (async () => {
        try {
          for await (const msg of sseMessages(client, `/v1/tasks/${encodeURIComponent(taskId)}/stream`, {
            signal: abort.signal,
            onOpen: () => {
              st.live = 'live';
            },
          })) {
            let type = msg.event !== 'message' ? msg.event : undefined;
            try {
              const e = CloudEvent.safeParse(JSON.parse(msg.data));
              if (e.success) type = e.data.type;
            } catch {
              // a keep-alive or non-JSON message: just a wake-up
            }
            if (type) st.lastEvent = type;
            waker.poke();
          }
        } catch (err) {
          if (abort.signal.aborted) return;
          st.live = 'polling';
          if (!(err instanceof ApiRequestError && (err.routeMissing || err.status === 415))) {
            if (show) out.note(`live updates unavailable (${(err as Error).message}); polling instead`);
          }
          waker.poke();
        }
      })();

  try {
    if (st.task.kind === 'workflow') await refresh(client, st);
    draw();
    while (!isFinal(st.task.status)) {
      if (ctx.now() > deadline) {
        if (tty) out.raw('\r\x1b[2K');
        throw new CliError(`task ${taskId} is still ${st.task.status} after ${o.timeout} s (it goes on; watch it again with \`steward watch ${taskId}\`)`, EXIT.timeout);
      }
      // With the stream, events wake the loop at once; the slow poll only guards against a silent stream.
      await waker.sleep(st.live === 'polling' ? (o.interval ?? 500) : st.live === 'live' ? 5000 : 250);
      // Coalesce a burst of events into one refresh.
      if (st.live === 'live') await new Promise((r) => setTimeout(r, 40));
      await refresh(client, st);
      draw();
    }
  } finally {
    abort.abort();
    if (ticker) clearInterval(ticker);
    process.off('SIGINT', onSigint);
    if (tty) out.raw('\r\x1b[2K');
    await live.catch(() => undefined);
  }
  return st.task;
}

export async function printFinal(ctx: Ctx, out: Out, task: Task): Promise<void> {
  if (out.json) out.data(task);
  else for (const l of finalLines(task, Math.max(0, (task.completedAt ? Date.parse(task.completedAt) : ctx.now()) - Date.parse(task.createdAt)), out.style)) out.line(l);
  if (task.status !== 'completed') throw new ExitWith(EXIT.failed);
}

export async function watch(ctx: Ctx, taskId: string, o: WatchOptions): Promise<void> {
  const client = await ctx.client();
  const out = ctx.out(o.json);
  const task = await followTask(ctx, client, taskId, out, o);
  await printFinal(ctx, out, task);
}
