// One task, one trace: the five services run as processes with tracing on, exporting OTLP/HTTP (JSON) to a small
// receiver in this test, and the spans of a task from gateway, orchestrator, workflow-runner, skill-worker (and
// escalation when a decision occurs) share the trace id the client started.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICES, Stack, submit, until, waitForTask, type Service } from './harness.js';

/** A span as the receiver keeps it (from OTLP/JSON: ids are hex strings). */
interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
interface OtlpRequest {
  resourceSpans?: {
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: { spans?: { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes?: OtlpAttribute[] }[] }[];
  }[];
}

const attrs = (list: OtlpAttribute[] = []): Record<string, unknown> =>
  Object.fromEntries(list.map((a) => [a.key, a.value.stringValue ?? a.value.intValue ?? a.value.boolValue ?? a.value.doubleValue]));

/** An OTLP/HTTP receiver for traces (JSON bodies, as the services' exporter sends them). */
async function startReceiver(): Promise<{ server: Server; url: string; spans: ReceivedSpan[]; requests: { contentType: string | undefined }[] }> {
  const spans: ReceivedSpan[] = [];
  const requests: { contentType: string | undefined }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      requests.push({ contentType: req.headers['content-type'] });
      if (req.method !== 'POST' || req.url !== '/v1/traces' || !req.headers['content-type']?.startsWith('application/json')) {
        res.writeHead(415).end();
        return;
      }
      const parsed = JSON.parse(body.toString('utf8')) as OtlpRequest;
      for (const rs of parsed.resourceSpans ?? []) {
        const service = String(attrs(rs.resource?.attributes)['service.name']);
        for (const ss of rs.scopeSpans ?? [])
          for (const s of ss.spans ?? []) spans.push({ service, traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId ?? '', name: s.name, kind: s.kind, attributes: attrs(s.attributes) });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${port}/v1/traces`, spans, requests };
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

describe('a trace follows a task across the services (OTLP/HTTP to a receiver in the test)', () => {
  let stack: Stack | undefined;
  let starting: Promise<Stack> | undefined;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    receiver = await startReceiver();
    const otel = { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '100' };
    const env: Partial<Record<Service, Record<string, string>>> = Object.fromEntries(SERVICES.map((s) => [s, { ...otel }]));
    // Debug level: the bus consumer writes a line per handled message, for the log-ids check.
    for (const s of ['orchestrator', 'skill-worker'] as const) env[s]!.LOG_LEVEL = 'debug';
    starting = Stack.start({ env });
    stack = await starting;
  }, 300_000); // five services from source take long to start on a busy machine
  afterAll(async () => {
    // Also when the start outlived beforeAll's timeout: its processes must not be left running.
    await (stack ?? (await starting?.catch(() => undefined)))?.stop();
    await new Promise((r) => receiver?.server.close(r));
  }, 300_000);

  const inTrace = (traceId: string) => receiver.spans.filter((s) => s.traceId === traceId);

  it('a workflow task: spans from gateway, orchestrator, workflow-runner and skill-worker with the caller’s trace id, one connected tree', async () => {
    const traceId = hex(16);
    const callerSpan = hex(8);
    const r = await submit(stack!, { workflow: 'demo.shout', input: { greeting: 'hello', to: { name: 'trace' } } }, { traceparent: `00-${traceId}-${callerSpan}-01` });
    expect(r.status).toBe(202);
    const taskId = r.body.taskId as string;
    const { task } = await waitForTask(stack!, taskId);
    expect(task.status).toBe('completed');

    // The audit stream: every event of the task carries a traceparent of this trace (the span it was made in).
    const events = await stack!.eventsOf(taskId);
    expect(events.length).toBeGreaterThan(4);
    for (const e of events) expect(e.traceparent, e.type).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));

    // Wait for the last spans to be exported (100 ms batches), until the trace is one tree hanging from the caller
    // that holds the span every event was made in.
    const spans = await until(
      'spans of the four services in one connected trace',
      async () => {
        const got = inTrace(traceId);
        const ids = new Set(got.map((s) => s.spanId));
        const services = new Set(got.map((s) => s.service));
        const connected = got.every((s) => s.parentSpanId === callerSpan || ids.has(s.parentSpanId));
        const makers = events.every((e) => ids.has(e.traceparent!.slice(36, 52)));
        return ['gateway', 'orchestrator', 'workflow-runner', 'skill-worker'].every((s) => services.has(s)) && connected && makers ? got : undefined;
      },
      20_000,
    );
    expect(receiver.requests.every((q) => q.contentType?.startsWith('application/json'))).toBe(true);

    // The gateway's server span is the caller's child; the task's messages are consumed in each service.
    const server = spans.find((s) => s.service === 'gateway' && s.name === 'POST /v1/tasks');
    expect(server?.parentSpanId).toBe(callerSpan);
    const consumed = (service: string, what: string) => spans.filter((s) => s.service === service && s.name.startsWith('process ') && s.name.includes(what));
    expect(consumed('orchestrator', 'task.submitted')).toHaveLength(1);
    expect(consumed('workflow-runner', 'workflow.start')).toHaveLength(1);
    expect(consumed('skill-worker', 'skill.invoke')).toHaveLength(2); // two steps, one invocation each
    expect(consumed('orchestrator', 'task.submitted')[0]!.attributes['steward.task_id']).toBe(taskId);
    expect(spans.some((s) => s.service === 'gateway' && s.name.startsWith('publish steward.evt.task.submitted'))).toBe(true);
    const submitted = events.find((e) => e.type === 'steward.task.submitted.v1')!;
    expect(submitted.traceparent!.slice(36, 52)).toBe(server?.spanId);
    const ids = new Set(spans.map((s) => s.spanId));

    // Log lines written while handling the task's messages (LOG_LEVEL=debug: one per message) carry its ids.
    for (const service of ['orchestrator', 'skill-worker'] as const) {
      const lines = (await readFile(stack!.logFile(service), 'utf8'))
        .split('\n')
        .filter((l) => l.includes(taskId))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const handled = lines.filter((l) => l.msg === 'handled');
      expect(handled.length, service).toBeGreaterThan(0);
      for (const l of lines) expect(l, service).toMatchObject({ taskId, traceId });
      for (const l of handled) expect(ids.has(l.spanId as string), service).toBe(true);
    }
  });

  it('a workflow with a decision: the escalation service’s spans join the same trace', async () => {
    const traceId = hex(16);
    const r = await submit(stack!, { workflow: 'example.review-change', input: { title: 'trace the decision', risk: 'high' } }, { traceparent: `00-${traceId}-${hex(8)}-01` });
    expect(r.status).toBe(202);
    const spans = await until('an escalation span in the trace', async () => (inTrace(traceId).some((s) => s.service === 'escalation') ? inTrace(traceId) : undefined), 30_000);
    const services = new Set(spans.map((s) => s.service));
    for (const s of ['gateway', 'orchestrator', 'workflow-runner', 'skill-worker', 'escalation']) expect(services.has(s), s).toBe(true);
    expect(spans.some((s) => s.service === 'escalation' && s.name.includes('decision.requested'))).toBe(true);
  });
});
