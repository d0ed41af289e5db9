// Server-sent events over fetch: a parser that follows the WHATWG event-stream rules, and a reader that reconnects
// with Last-Event-ID so a dropped connection misses nothing the server still has.
import { ApiRequestError, type ApiClient } from './client.js';

export interface SseMessage {
  /** The `id:` of the message (Steward: the stream sequence); absent when the message had none. */
  id?: string;
  event: string;
  data: string;
}

/** Incremental text/event-stream parser: feed it chunks, get whole messages back. */
export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private event = '';
  private id: string | undefined;
  private sawId = false;
  /** The last `id:` seen (what to send as Last-Event-ID), kept across messages as the spec says. */
  lastEventId: string | undefined;
  /** The last `retry:` the server asked for, in ms. */
  retryMs: number | undefined;
  private lastWasCR = false;

  push(chunk: string): SseMessage[] {
    const out: SseMessage[] = [];
    let text = chunk;
    // A CRLF split across chunks: the LF belongs to the CR already handled.
    if (this.lastWasCR && text.startsWith('\n')) text = text.slice(1);
    this.lastWasCR = text.endsWith('\r');
    this.buffer += text;
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buffer);
      if (!m) break;
      const line = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      const msg = this.line(line);
      if (msg) out.push(msg);
    }
    return out;
  }

  private line(line: string): SseMessage | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        this.data.push(value);
        break;
      case 'event':
        this.event = value;
        break;
      case 'id':
        if (!value.includes('\0')) {
          this.id = value;
          this.sawId = true;
          this.lastEventId = value;
        }
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retryMs = Number(value);
        break;
      default:
        break;
    }
    return undefined;
  }

  private dispatch(): SseMessage | undefined {
    const data = this.data;
    const event = this.event;
    const id = this.sawId ? this.id : undefined;
    this.data = [];
    this.event = '';
    this.sawId = false;
    if (data.length === 0) return undefined;
    return { ...(id !== undefined ? { id } : {}), event: event || 'message', data: data.join('\n') };
  }
}

export interface SseOptions {
  query?: Record<string, string | undefined>;
  lastEventId?: string;
  signal?: AbortSignal;
  /** Called when the connection drops and the reader reconnects (for a status line). */
  onReconnect?: (attempt: number, error: unknown) => void;
  /** Called each time a connection is open (200). */
  onOpen?: () => void;
}

/**
 * The messages of an event stream, reconnecting (with Last-Event-ID) when the connection ends or fails, until
 * `signal` aborts, the server answers 204, or the caller stops iterating (e.g. on Steward's `event: end`). The first connection's refusal is thrown (e.g. a 404 route the caller falls back from); later
 * 4xx refusals too; network failures are retried with back-off.
 */
export async function* sseMessages(client: ApiClient, path: string, o: SseOptions = {}): AsyncGenerator<SseMessage> {
  let lastEventId = o.lastEventId;
  let connected = false;
  let failures = 0;
  let retryMs = 1000;
  while (!o.signal?.aborted) {
    let res: Response;
    try {
      res = await client.send('GET', path, {
        headers: { accept: 'text/event-stream', 'cache-control': 'no-cache', ...(lastEventId !== undefined ? { 'last-event-id': lastEventId } : {}) },
        ...(o.query ? { query: o.query } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
      });
    } catch (err) {
      if (o.signal?.aborted) return;
      if (!connected || (err instanceof ApiRequestError && err.status < 500 && err.status !== 429)) throw err;
      failures++;
      o.onReconnect?.(failures, err);
      await wait(Math.min(retryMs * 2 ** Math.min(failures - 1, 4), 15_000), o.signal);
      continue;
    }
    // 204: the server has nothing more for this client (e.g. a finished task whose final event it already has).
    if (res.status === 204) {
      await res.body?.cancel();
      return;
    }
    if (!(res.headers.get('content-type') ?? '').includes('text/event-stream')) {
      await res.body?.cancel();
      throw new ApiRequestError(415, 'not_an_event_stream', `${path} did not answer with text/event-stream`);
    }
    connected = true;
    failures = 0;
    o.onOpen?.();
    const parser = new SseParser();
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        for (const msg of parser.push(decoder.decode(chunk, { stream: true }))) {
          if (msg.id !== undefined) lastEventId = msg.id;
          yield msg;
        }
        if (parser.retryMs !== undefined) retryMs = parser.retryMs;
      }
    } catch (err) {
      if (o.signal?.aborted) return;
      failures++;
      o.onReconnect?.(failures, err);
    }
    if (o.signal?.aborted) return;
    if (parser.lastEventId !== undefined) lastEventId = parser.lastEventId;
    await wait(retryMs, o.signal);
  }
}

function wait(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
}
