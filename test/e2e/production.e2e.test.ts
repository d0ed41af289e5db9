// Production-like run: the five services start from their built output (`node apps/<service>/dist/main.js`,
// NODE_ENV=production, LOG_LEVEL=info, no tsx, no development condition) as separate processes. A workflow of
// several steps and single-skill tasks run end to end. Then every service gets SIGTERM while work is in flight,
// one after the other (a rolling restart) and then all at once (a full stop): each must drain, log it and exit 0
// within SHUTDOWN_TIMEOUT_MS, and after the restarts every submitted task must complete exactly once (one task row,
// one task.completed event, one side effect per step).
//
// beforeAll builds the services and the packages they use (`pnpm build` with turbo filters; cached when nothing
// changed). E2E_SKIP_BUILD=1 skips that and uses the dist/ already there.
import type { Envelope } from '@steward/contracts';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICES, Stack, submit, until, waitForTask, type Service } from './harness.js';

const ROOT = join(import.meta.dirname, '..', '..');
const SHUTDOWN_TIMEOUT_MS = 20_000;
const BUILD_TIMEOUT_MS = 20 * 60_000;
/** Each step of the drain workflow and each single-skill task runs this long, so SIGTERMs find work in flight. */
const STEP_MS = 400;

/** Runs `pnpm build` for the five services and everything they depend on (turbo skips what is cached). */
async function build(): Promise<void> {
  // The filters name the services only: their dependencies build through turbo's `^build`.
  const filters = SERVICES.map((s) => `--filter=@steward/${s}`);
  const child = spawn('pnpm', ['build', ...filters, '--output-logs=errors-only'], { cwd: ROOT, env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`pnpm build failed (${code}):\n${out.slice(-4000)}`);
}

/** Four steps in sequence, each appending one line (its tag) to `file`: the side effects this test counts. */
const DRAIN_WORKFLOW = `
name: e2e.drain
version: 1
description: Four recorded steps in sequence.
inputs:
  type: object
  properties: { run: { type: string }, file: { type: string } }
  required: [run, file]
steps:
${['a', 'b', 'c', 'd'].map((id) => `  - { id: ${id}, skill: test.record, with: { file: '\${{ inputs.file }}', tag: '\${{ inputs.run }}:${id}', ms: ${STEP_MS} } }`).join('\n')}
outputs:
  last: '\${{ steps.d.output.tag }}'
`;

/** Several steps of shipped skills: a parallel stage feeding a sequential one. */
const PIPELINE_WORKFLOW = `
name: e2e.pipeline
version: 1
inputs:
  type: object
  properties: { name: { type: string } }
  required: [name]
stages:
  - steps:
      - { id: hello, skill: echo, with: { greeting: 'hello \${{ inputs.name }}' } }
  - parallel: true
    steps:
      - { id: loud, skill: text.uppercase, with: { text: '\${{ steps.hello.output.greeting }}' } }
      - { id: pause, skill: util.sleep, with: { ms: 200 } }
  - steps:
      - { id: done, skill: echo, with: { loud: '\${{ steps.loud.output.text }}', slept: '\${{ steps.pause.output.ms }}' } }
outputs:
  result: '\${{ steps.done.output }}'
`;

let stack: Stack;
let dir: string;

beforeAll(async () => {
  if (process.env.E2E_SKIP_BUILD !== '1') await build();
  dir = await mkdtemp(join(tmpdir(), 'e2e-production-'));
  const common = { LOG_LEVEL: 'info', SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) };
  stack = await Stack.start({
    mode: 'dist',
    env: {
      gateway: common,
      orchestrator: common,
      'workflow-runner': common,
      escalation: common,
      // test.record is the one non-production piece: it makes each execution of a step countable.
      'skill-worker': { ...common, TEST_SKILLS: 'true' },
    },
  });
  for (const doc of [DRAIN_WORKFLOW, PIPELINE_WORKFLOW]) {
    const r = await stack.gateway('/v1/workflows', { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: doc });
    expect(r.status, await r.clone().text()).toBe(201);
  }
}, BUILD_TIMEOUT_MS + 180_000);

afterAll(async () => {
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const logOf = (service: Service): Promise<string[]> => readFile(stack.logFile(service), 'utf8').then((t) => t.split('\n').filter(Boolean));
const logLines = async (service: Service, msg: string): Promise<Record<string, unknown>[]> =>
  (await logOf(service)).flatMap((l) => {
    try {
      const j = JSON.parse(l) as Record<string, unknown>;
      return j.msg === msg ? [j] : [];
    } catch {
      return [];
    }
  });

/** Every event of the audit stream, grouped by correlation id (the task). */
async function eventsByTask(): Promise<Map<string, Envelope[]>> {
  const stream = stack.bus.streamName('events');
  const info = await stack.bus.jsm.streams.info(stream);
  const out = new Map<string, Envelope[]>();
  if (info.state.messages === 0) return out;
  const consumer = await stack.bus.js.consumers.get(stream);
  const msgs = await consumer.consume({ max_messages: 1000 });
  for await (const m of msgs) {
    const e = m.json<Envelope>();
    if (e.correlationid) out.set(e.correlationid, [...(out.get(e.correlationid) ?? []), e]);
    if (m.seq >= info.state.last_seq) break;
  }
  await msgs.close();
  return out;
}

describe('production-like: the five services from their built output', () => {
  it('start from dist with NODE_ENV=production and run a workflow of several steps and single-skill tasks end to end', async () => {
    for (const s of SERVICES) {
      const [starting] = await logLines(s, 'starting');
      expect(starting, s).toBeDefined();
      expect((starting!.config as Record<string, unknown>).NODE_ENV, s).toBe('production');
      expect(stack.procs.get(s)?.spawnargs.slice(1), s).toEqual([join(ROOT, 'apps', s, 'dist', 'main.js')]);
      const ready = await fetch(stack.url(s, '/readyz'));
      expect(ready.status, s).toBe(200);
    }
    const pipeline = await submit(stack, { workflow: 'e2e.pipeline', input: { name: 'prod' } });
    // demo.shout ships in workflow-runner's workflows/ and docs.release-notes in skill-worker's skills/: both are found from dist/.
    const shout = await submit(stack, { workflow: 'demo.shout', input: { greeting: 'hello', to: { name: 'world' } } });
    const notes = await submit(stack, { skill: 'docs.release-notes', input: { task: 'Release notes for 1.2', context: { changes: ['fix: crash on empty input'] } } });
    const echo = await submit(stack, { skill: 'echo', input: { message: 'from dist' } });
    const upper = await submit(stack, { skill: 'text.uppercase', input: { word: 'built' } });
    for (const r of [pipeline, shout, notes, echo, upper]) expect(r.status).toBe(202);

    const done = async (r: { body: Record<string, unknown> }) => {
      const { task } = await waitForTask(stack, r.body.taskId as string);
      expect(task.status).toBe('completed');
      return task.output;
    };
    expect(await done(pipeline)).toEqual({ result: { loud: 'HELLO PROD', slept: 200 } });
    expect(await done(shout)).toEqual({ greeting: 'HELLO', to: { name: 'WORLD' } });
    expect(await done(echo)).toEqual({ message: 'from dist' });
    expect(await done(upper)).toEqual({ word: 'BUILT' });
    expect(await done(notes)).toMatchObject({ offline: true });
  }, 120_000);

  it('drains in-flight work on SIGTERM (rolling, then all at once): every process exits 0 in time, every task completes exactly once', async () => {
    const file = join(dir, 'effects.log');
    await writeFile(file, '');
    /** One logical submission: its Idempotency-Key makes a retry after a refused or cut-off request safe. */
    const work: { key: string; body: unknown; tags: string[]; taskId?: string }[] = [];
    const exits: { service: Service; code: number | null; ms: number; busy: boolean }[] = [];
    const sigterms = new Map<Service, number>();

    const post = async (w: (typeof work)[number]): Promise<void> => {
      try {
        const r = await submit(stack, w.body, { 'idempotency-key': w.key });
        if (r.status === 202) w.taskId = r.body.taskId as string;
      } catch {
        // the gateway is stopping or stopped: not accepted, submitted again below
      }
    };
    const add = (n: number): Promise<void>[] => {
      const added = Array.from({ length: n }, () => {
        const i = work.length;
        const name = `w${i}`;
        const w =
          i % 2 === 0
            ? { key: `prod-${name}`, body: { workflow: 'e2e.drain', input: { run: name, file } }, tags: ['a', 'b', 'c', 'd'].map((s) => `${name}:${s}`) }
            : { key: `prod-${name}`, body: { skill: 'test.record', input: { file, tag: `${name}:skill`, ms: STEP_MS * 2 } }, tags: [`${name}:skill`] };
        work.push(w);
        return w;
      });
      return added.map(post);
    };
    const sigterm = async (service: Service): Promise<void> => {
      sigterms.set(service, (sigterms.get(service) ?? 0) + 1);
      const busy = (await stack.bus.jsm.consumers.info(stack.bus.streamName('commands'), 'skill-worker')).num_ack_pending > 0;
      const t0 = Date.now();
      const code = await stack.kill(service, 'SIGTERM');
      exits.push({ service, code, ms: Date.now() - t0, busy });
    };

    // Rolling restart: new work goes in before each stop, so every service is stopped with work in flight.
    for (const service of ['skill-worker', 'workflow-runner', 'orchestrator', 'escalation', 'gateway'] as const) {
      const posts = add(4);
      if (service === 'gateway') {
        // Requests still arriving as the gateway stops: each is either accepted (202, then it must complete) or refused.
        await new Promise((r) => setTimeout(r, 5));
        await sigterm(service);
      } else {
        await Promise.all(posts);
        await stack.untilWorkerHoldsInvocation();
        await sigterm(service);
      }
      await Promise.all(posts);
      await stack.startService(service);
    }
    // Everything a stopped gateway refused is submitted again with its key.
    await Promise.all(work.filter((w) => !w.taskId).map(post));

    // Full stop with work in flight (what `docker compose down` or a node drain does), then a cold start.
    await Promise.all(add(6));
    await stack.untilWorkerHoldsInvocation();
    await Promise.all(SERVICES.map((s) => sigterm(s)));
    await stack.startService('skill-worker');
    await Promise.all(SERVICES.filter((s) => s !== 'skill-worker').map((s) => stack.startService(s)));

    // Every process exited 0, within its shutdown timeout.
    expect(exits.filter((e) => e.code !== 0 || e.ms >= SHUTDOWN_TIMEOUT_MS)).toEqual([]);
    expect(exits.filter((e) => e.busy).length, 'SIGTERMs that found a skill running').toBeGreaterThanOrEqual(5);

    // Every submission completed, exactly once.
    for (const w of work) {
      expect(w.taskId, w.key).toBeDefined();
      const { task } = await waitForTask(stack, w.taskId!, 120_000);
      expect(task.status, w.key).toBe('completed');
    }
    const taskRows = await stack.db.prisma.task.count();
    const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { tag: string });
    const counts = new Map<string, number>();
    for (const l of lines) counts.set(l.tag, (counts.get(l.tag) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual(work.flatMap((w) => w.tags).sort());
    expect([...counts.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    // 5 tasks from the first test, one row per submission here.
    expect(taskRows).toBe(5 + work.length);
    const events = await eventsByTask();
    for (const w of work) {
      const types = (events.get(w.taskId!) ?? []).map((e) => e.type);
      expect(types.filter((t) => t === 'steward.task.submitted.v1'), w.key).toHaveLength(1);
      expect(types.filter((t) => t === 'steward.task.completed.v1'), w.key).toHaveLength(1);
    }

    // The logs show each drain: shutting down → draining → drained, once per SIGTERM, and no drain timed out.
    for (const s of SERVICES) {
      const n = sigterms.get(s) ?? 0;
      expect(n, s).toBe(2);
      await until(`${s} to log its drains`, async () => ((await logLines(s, 'drained')).length >= n ? true : undefined), 5_000);
      expect((await logLines(s, 'shutting down')).map((l) => l.signal), s).toEqual(Array(n).fill('SIGTERM'));
      expect(await logLines(s, 'draining'), s).toHaveLength(n);
      expect(await logLines(s, 'drained'), s).toHaveLength(n);
      expect(await logLines(s, 'drain timed out; exiting'), s).toEqual([]);
    }
    console.log(
      `production e2e: ${work.length} submissions, ${lines.length} side effects each exactly once; SIGTERM exits (ms): ${exits.map((e) => `${e.service}=${e.ms}${e.busy ? '*' : ''}`).join(' ')}`,
    );
  }, 600_000);
});
