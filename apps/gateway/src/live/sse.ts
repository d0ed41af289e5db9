import type { ServerResponse } from 'node:http';

/** How long a client waits before reconnecting after the stream drops (the SSE `retry:` field). */
const RETRY_MS = 2000;

/**
 * One text/event-stream response. Writes never block: when the client reads slower than events come and more than
 * `maxBuffered` bytes wait in the socket, the connection is closed; the client resumes with Last-Event-ID and misses
 * nothing.
 */
export class SseWriter {
  private heartbeat: NodeJS.Timeout | undefined;
  private done = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly maxBuffered: number,
  ) {
    res.on('close', () => this.stopHeartbeat());
  }

  get closed(): boolean {
    return this.done || this.res.destroyed || this.res.writableEnded;
  }

  open(heartbeatMs: number): void {
    this.res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    this.write(`retry: ${RETRY_MS}\n: connected\n\n`);
    this.heartbeat = setInterval(() => this.write(': ping\n\n'), heartbeatMs);
    this.heartbeat.unref();
  }

  /** An event whose id is its stream sequence; `data` is the CloudEvent JSON as stored. */
  event(sequence: number, data: string): void {
    this.write(`id: ${sequence}\n${dataLines(data)}\n`);
  }

  /** A named event without id (Last-Event-ID stays at the last stream event). */
  named(name: string, data: unknown): void {
    this.write(`event: ${name}\n${dataLines(JSON.stringify(data))}\n`);
  }

  end(): void {
    if (this.closed) return;
    this.done = true;
    this.stopHeartbeat();
    this.res.end();
  }

  private write(chunk: string): void {
    if (this.closed) return;
    this.res.write(chunk);
    if (this.res.writableLength > this.maxBuffered) {
      this.done = true;
      this.res.destroy();
    }
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }
}

/** `data:` lines for a payload (a newline inside it starts another data line; the client joins them with \n). */
function dataLines(data: string): string {
  return data
    .split(/\r\n|\r|\n/)
    .map((l) => `data: ${l}\n`)
    .join('');
}
