import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient } from './client.js';
import { SseParser, sseMessages } from './sse.js';

describe('SseParser', () => {
  it('parses messages split anywhere, with ids, names, multi-line data, comments and retry', () => {
    const p = new SseParser();
    const text = 'retry: 1500\n: connected\n\nid: 7\ndata: {"a":\ndata: 1}\n\nevent: end\ndata: {"status":"completed"}\n\n';
    const got = [];
    for (let i = 0; i < text.length; i += 3) got.push(...p.push(text.slice(i, i + 3)));
    expect(got).toEqual([
      { id: '7', event: 'message', data: '{"a":\n1}' },
      { event: 'end', data: '{"status":"completed"}' },
    ]);
    expect(p.retryMs).toBe(1500);
    expect(p.lastEventId).toBe('7');
  });

  it('treats CR, LF and CRLF (split across chunks) as line ends, and "data" without a colon as empty data', () => {
    const p = new SseParser();
    expect(p.push('data: a\r')).toEqual([]);
    expect(p.push('\n\r\n')).toEqual([{ event: 'message', data: 'a' }]);
    expect(p.push('data\n\n')).toEqual([{ event: 'message', data: '' }]);
    expect(p.push('id: 3\n\n')).toEqual([]);
    expect(p.lastEventId).toBe('3');
  });
});

describe('sseMessages', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  async function serve(handler: (n: number, headers: IncomingHttpHeaders, res: import('node:http').ServerResponse) => void): Promise<ApiClient> {
    let n = 0;
    server = createServer((req, res) => handler(n++, req.headers, res));
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    return new ApiClient({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, apiKey: 'stw_test' });
  }

  it('reconnects when the stream drops, resuming with Last-Event-ID, and stops on 204', async () => {
    const seen: (string | undefined)[] = [];
    const client = await serve((n, headers, res) => {
      seen.push(headers['last-event-id'] as string | undefined);
      expect(headers.authorization).toBe('Bearer stw_test');
      expect(headers.accept).toBe('text/event-stream');
      if (n === 2) {
        res.writeHead(204).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(n === 0 ? 'retry: 10\n\nid: 1\ndata: one\n\nid: 2\ndata: two\n\n' : 'id: 3\ndata: three\n\n');
    });
    const got: string[] = [];
    for await (const m of sseMessages(client, '/v1/tasks/x/stream')) got.push(`${m.id}:${m.data}`);
    expect(got).toEqual(['1:one', '2:two', '3:three']);
    expect(seen).toEqual([undefined, '2', '3']);
  });

  it('throws the first refusal (the caller falls back, e.g. on a gateway without the route)', async () => {
    const client = await serve((_n, _h, res) => {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'not_found', message: 'Cannot GET /v1/tasks/x/stream' } }));
    });
    const it = sseMessages(client, '/v1/tasks/x/stream');
    await expect(it.next()).rejects.toMatchObject({ status: 404, code: 'not_found', routeMissing: true });
  });
});
