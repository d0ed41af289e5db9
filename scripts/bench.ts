// Benchmark: tasks through the running stack (scripts/up.sh), submitted over HTTP, completion observed on the
// event stream. Prints one JSON line per workload: throughput, submit→completed latency p50/p95/p99, machine
// CPU, and for single-skill tasks each stage's share.
//
//   pnpm bench                               # W1, W2, W3 and the open-loop run
//   pnpm bench --workloads=open --rate=100   # one workload; see `Args` below for the knobs
//
// Workloads mirror ../shared/peers (DBOS, BullMQ): W1_single_step (N=5000, C lanes each submit a one-skill task
// and await it), W2_three_step (N=2000, the three-step workflow bench.three-step), W3_low_load (200 tasks one at
// a time); plus open_loop (a fixed arrival rate: latency under steady load), W4_fan_out (bench.fan-out: ten echo
// steps side by side via for_each, then a gathering step) and W5_workflow_low_load (bench.three-step one at a time,
// with the per-step overhead: the median time between consecutive step completions of a run, i.e. one step's
// scheduling, dispatch, execution of a no-op skill and result handling).
import { connect } from '@nats-io/transport-node';
import { Agent, request } from 'undici';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { z } from 'zod';

const Args = z.object({
  url: z.string().default(process.env.STEWARD_URL ?? 'http://127.0.0.1:8080'),
  key: z.string().min(1, 'an API key: --key=… or STEWARD_API_KEY').default(process.env.STEWARD_API_KEY ?? ''),
  nats: z.string().default(process.env.NATS_URL ?? 'nats://127.0.0.1:4222'),
  namespace: z.string().default(process.env.NATS_NAMESPACE ?? ''),
  workloads: z.string().default('W1,W2,W3,open,W4,W5'),
  nFanOut: z.coerce.number().int().positive().default(500),
  n: z.coerce.number().int().positive().default(5000),
  nWorkflow: z.coerce.number().int().positive().default(2000),
  nSerial: z.coerce.number().int().positive().default(200),
  conc: z.string().default('64,256'),
  rate: z.coerce.number().positive().default(100),
  seconds: z.coerce.number().positive().default(20),
  warmup: z.coerce.number().int().min(0).default(100),
  json: z.enum(['', 'true', 'false']).default('false').transform((v) => v !== 'false'),
});
const args = Args.parse(Object.fromEntries(process.argv.slice(2).map((a) => { const [k, v = ''] = a.replace(/^--/, '').split('='); return [k, v]; })));

const agent = new Agent({ connections: 512, pipelining: 1 });
const nc = await connect({ servers: args.nats, name: 'steward-bench' });
const prefix = args.namespace ? `${args.namespace}.` : '';

/** When each task's events were seen on the bus, by task id. */
const seen = new Map<string, Partial<Record<'submitted' | 'started' | 'skill' | 'completed' | 'runStarted' | 'runCompleted', number>> & { output?: unknown; steps?: number[] }>();
const waiters = new Map<string, () => void>();
const stageOf: Record<string, 'submitted' | 'started' | 'skill' | 'completed' | undefined> = {
  'steward.task.submitted.v1': 'submitted',
  'steward.task.started.v1': 'started',
  'steward.skill.invocation.completed.v1': 'skill',
  'steward.task.completed.v1': 'completed',
};
const sub = nc.subscribe(`${prefix}steward.evt.>`);
void (async () => {
  for await (const m of sub) {
    const t = performance.now();
    const e = m.json<{ type: string; correlationid: string; data: { output?: unknown } }>();
    if (e.type === 'steward.workflow.run.started.v1' || e.type === 'steward.workflow.run.completed.v1') {
      const rec = seen.get(e.correlationid) ?? {};
      rec[e.type === 'steward.workflow.run.started.v1' ? 'runStarted' : 'runCompleted'] ??= t;
      seen.set(e.correlationid, rec);
      continue;
    }
    if (e.type === 'steward.step.run.completed.v1') {
      const rec = seen.get(e.correlationid) ?? {};
      (rec.steps ??= []).push(t);
      seen.set(e.correlationid, rec);
      continue;
    }
    const stage = stageOf[e.type];
    if (!stage) continue;
    const rec = seen.get(e.correlationid) ?? {};
    rec[stage] ??= t;
    if (stage === 'completed') rec.output = e.data.output;
    seen.set(e.correlationid, rec);
    if (stage === 'completed') waiters.get(e.correlationid)?.();
  }
})();

interface Sample {
  taskId: string;
  t0: number;
  done: number;
  ok: boolean;
}

const echoes = (out: unknown, i: number) => (out as { ok?: unknown; i?: unknown } | undefined)?.ok === true && (out as { i?: unknown }).i === i;

/** Submits task i and waits for its completion; ok when `check` accepts its output (by default `{ ok: true, i }` back). */
async function runTask(body: string, i: number, check: (output: unknown, i: number) => boolean = echoes): Promise<Sample> {
  const t0 = performance.now();
  const res = await request(`${args.url}/v1/tasks`, { method: 'POST', body, headers: { authorization: `Bearer ${args.key}`, 'content-type': 'application/json' }, dispatcher: agent });
  const { taskId } = (await res.body.json()) as { taskId: string };
  if (res.statusCode !== 202) throw new Error(`HTTP ${res.statusCode}`);
  if (seen.get(taskId)?.completed === undefined) await new Promise<void>((resolve) => waiters.set(taskId, resolve));
  waiters.delete(taskId);
  const rec = seen.get(taskId)!;
  return { taskId, t0, done: rec.completed!, ok: check(rec.output, i) };
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;

function cpuSnap() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3]! + f[4]!;
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

function report(workload: string, samples: Sample[], wallMs: number, extra: Record<string, unknown>, stages: boolean, cpu0: ReturnType<typeof cpuSnap>, perStep = false) {
  const cpu1 = cpuSnap();
  const lat = samples.map((s) => s.done - s.t0).sort((a, b) => a - b);
  const out: Record<string, unknown> = {
    system: 'steward',
    workload,
    n: samples.length,
    ...extra,
    wall_s: +(wallMs / 1000).toFixed(3),
    per_s: +((samples.length / wallMs) * 1000).toFixed(1),
    p50_ms: +pct(lat, 50).toFixed(2),
    p95_ms: +pct(lat, 95).toFixed(2),
    p99_ms: +pct(lat, 99).toFixed(2),
    max_ms: +(lat.at(-1) ?? NaN).toFixed(2),
    errors: samples.filter((s) => !s.ok).length,
    machine_cpu_cores: +(((cpu1.busy - cpu0.busy) / (cpu1.total - cpu0.total)) * cpus().length).toFixed(2),
    date: new Date().toISOString(),
  };
  if (stages) {
    // Median time between the moments each event appeared on the bus.
    const parts = { 'http+gateway tx+relay': [] as number[], 'orchestrator start': [] as number[], 'skill-worker': [] as number[], 'orchestrator complete': [] as number[] };
    for (const s of samples) {
      const r = seen.get(s.taskId)!;
      if (r.submitted === undefined || r.started === undefined || r.skill === undefined || r.completed === undefined) continue;
      parts['http+gateway tx+relay'].push(r.submitted - s.t0);
      parts['orchestrator start'].push(r.started - r.submitted);
      parts['skill-worker'].push(r.skill - r.started);
      parts['orchestrator complete'].push(r.completed - r.skill);
    }
    const med = Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, pct(v.sort((a, b) => a - b), 50)]));
    const total = Object.values(med).reduce((a, b) => a + b, 0);
    out.stages_p50_ms = Object.fromEntries(Object.entries(med).map(([k, v]) => [k, +v.toFixed(2)]));
    out.stages_share = Object.fromEntries(Object.entries(med).map(([k, v]) => [k, `${((v / total) * 100).toFixed(0)}%`]));
  }
  if (perStep) {
    // One step's round trip: from a step's completion to the next one's, within each (sequential) run.
    const gaps = samples.flatMap((s) => {
      const t = (seen.get(s.taskId)?.steps ?? []).sort((a, b) => a - b);
      return t.slice(1).map((x, k) => x - t[k]!);
    });
    gaps.sort((a, b) => a - b);
    // The run alone (workflow.run.started → workflow.run.completed), without the task's HTTP and orchestrator hops.
    const runs = samples.map((s) => seen.get(s.taskId)).flatMap((r) => (r?.runStarted !== undefined && r.runCompleted !== undefined ? [r.runCompleted - r.runStarted] : []));
    runs.sort((a, b) => a - b);
    out.run_ms = { p50: +pct(runs, 50).toFixed(2), p99: +pct(runs, 99).toFixed(2) };
    out.per_step_overhead_ms = { p50: +pct(gaps, 50).toFixed(2), p95: +pct(gaps, 95).toFixed(2), p99: +pct(gaps, 99).toFixed(2), n: gaps.length };
  }
  if (workload !== 'warmup') {
    console.log(args.json ? JSON.stringify(out) : out);
    results.push(out);
  }
  for (const s of samples) seen.delete(s.taskId);
  return out;
}

async function closedLoop(workload: string, body: (i: number) => string, n: number, conc: number, stages: boolean, opts: { check?: (output: unknown, i: number) => boolean; perStep?: boolean } = {}) {
  const samples: Sample[] = [];
  let next = 0;
  const cpu0 = cpuSnap();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(conc, n) }, async () => {
      while (next < n) {
        const i = next++;
        samples.push(await runTask(body(i), i, opts.check));
      }
    }),
  );
  return report(workload, samples, performance.now() - t0, { mode: 'closed', concurrency: conc }, stages, cpu0, opts.perStep);
}

async function openLoop(rate: number, seconds: number) {
  const n = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const pending: Promise<Sample>[] = [];
  const cpu0 = cpuSnap();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const wait = t0 + i * interval - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(runTask(skillBody(i), i));
  }
  const samples = await Promise.all(pending);
  return report('open_loop', samples, performance.now() - t0, { mode: 'open', rate_per_s: rate }, true, cpu0);
}

const skillBody = (i: number) => JSON.stringify({ skill: 'echo', input: { ok: true, i } });
const workflowBody = (i: number) => JSON.stringify({ workflow: 'bench.three-step', input: { ok: true, i } });
const fanOutBody = (i: number) => JSON.stringify({ workflow: 'bench.fan-out', input: { items: Array.from({ length: 10 }, (_, k) => ({ k, i })) } });
const gatheredTen = (out: unknown) => (out as { count?: unknown } | undefined)?.count === 10;
const concs = args.conc.split(',').map(Number);
const workloads = new Set(args.workloads.split(','));
const results: Record<string, unknown>[] = [];

// Warm-up (not reported): JIT, connection pools, caches.
if (args.warmup > 0) await closedLoop('warmup', skillBody, args.warmup, 32, false);
if (workloads.has('W1')) for (const c of concs) await closedLoop('W1_single_step', skillBody, args.n, c, true);
if (workloads.has('W2')) for (const c of concs) await closedLoop('W2_three_step', workflowBody, args.nWorkflow, c, false);
if (workloads.has('W3')) await closedLoop('W3_low_load', skillBody, args.nSerial, 1, true);
if (workloads.has('open')) await openLoop(args.rate, args.seconds);
if (workloads.has('W4')) for (const c of [16, 64]) await closedLoop('W4_fan_out', fanOutBody, args.nFanOut, c, false, { check: gatheredTen });
if (workloads.has('W5')) await closedLoop('W5_workflow_low_load', workflowBody, args.nSerial, 1, false, { perStep: true });

sub.unsubscribe();
await nc.drain();
await agent.close();
if (results.some((r) => (r.errors as number) > 0)) {
  console.error('some tasks returned a wrong output');
  process.exit(1);
}
