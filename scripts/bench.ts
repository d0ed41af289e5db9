// Benchmark: tasks through the running stack (scripts/up.sh), submitted over HTTP, completion observed on the
// event stream. Prints throughput, submit→completed latency p50/p95/p99 and each stage's share.
//
//   pnpm bench                         # all workloads with defaults
//   pnpm bench --only=open --rate=100  # one workload; see `Args` below for the knobs
//
// Workloads: `closed` (C lanes each submit, await completion, repeat: like the peers' W1/W2) and `open`
// (a fixed arrival rate, latency under a steady load).
import { connect } from '@nats-io/transport-node';
import { Agent, request } from 'undici';
import { z } from 'zod';

const Args = z.object({
  url: z.string().default(process.env.STEWARD_URL ?? 'http://127.0.0.1:8080'),
  nats: z.string().default(process.env.NATS_URL ?? 'nats://127.0.0.1:4222'),
  namespace: z.string().default(process.env.NATS_NAMESPACE ?? ''),
  only: z.enum(['closed', 'open', 'workflow', 'all']).default('all'),
  n: z.coerce.number().int().positive().default(5000),
  nWorkflow: z.coerce.number().int().positive().default(2000),
  conc: z.string().default('64,256'),
  rate: z.coerce.number().positive().default(100),
  seconds: z.coerce.number().positive().default(20),
  warmup: z.coerce.number().int().min(0).default(200),
  json: z.enum(['', 'true', 'false']).default('false').transform((v) => v !== 'false'),
});
const args = Args.parse(Object.fromEntries(process.argv.slice(2).map((a) => { const [k, v = ''] = a.replace(/^--/, '').split('='); return [k, v]; })));

const agent = new Agent({ connections: 512, pipelining: 1 });
const nc = await connect({ servers: args.nats, name: 'steward-bench' });
const prefix = args.namespace ? `${args.namespace}.` : '';

/** When each task's events were seen on the bus, by task id. */
const seen = new Map<string, Partial<Record<'submitted' | 'started' | 'skill' | 'completed', number>>>();
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
    const e = m.json<{ type: string; correlationid: string }>();
    const stage = stageOf[e.type];
    if (!stage) continue;
    const rec = seen.get(e.correlationid) ?? {};
    rec[stage] ??= t;
    seen.set(e.correlationid, rec);
    if (stage === 'completed') waiters.get(e.correlationid)?.();
  }
})();

interface Sample {
  taskId: string;
  t0: number;
  done: number;
}

async function runTask(body: string): Promise<Sample> {
  const t0 = performance.now();
  const res = await request(`${args.url}/v1/tasks`, { method: 'POST', body, headers: { 'content-type': 'application/json' }, dispatcher: agent });
  const { taskId } = (await res.body.json()) as { taskId: string };
  if (res.statusCode !== 202) throw new Error(`HTTP ${res.statusCode}`);
  const rec = seen.get(taskId);
  if (rec?.completed === undefined) await new Promise<void>((resolve) => waiters.set(taskId, resolve));
  waiters.delete(taskId);
  return { taskId, t0, done: seen.get(taskId)!.completed! };
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;

function report(workload: string, samples: Sample[], wallMs: number, extra: Record<string, unknown>, stages: boolean) {
  const lat = samples.map((s) => s.done - s.t0).sort((a, b) => a - b);
  const out: Record<string, unknown> = {
    system: 'steward',
    workload,
    n: samples.length,
    ...extra,
    per_s: +((samples.length / wallMs) * 1000).toFixed(1),
    p50_ms: +pct(lat, 50).toFixed(2),
    p95_ms: +pct(lat, 95).toFixed(2),
    p99_ms: +pct(lat, 99).toFixed(2),
    max_ms: +(lat.at(-1) ?? NaN).toFixed(2),
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
  console.log(args.json ? JSON.stringify(out) : out);
  for (const s of samples) seen.delete(s.taskId);
  return out;
}

async function closedLoop(workload: string, body: (i: number) => string, n: number, conc: number, stages: boolean) {
  const samples: Sample[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(conc, n) }, async () => {
      while (next < n) {
        const i = next++;
        samples.push(await runTask(body(i)));
      }
    }),
  );
  return report(workload, samples, performance.now() - t0, { mode: 'closed', concurrency: conc }, stages);
}

async function openLoop(rate: number, seconds: number) {
  const n = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const pending: Promise<Sample>[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const due = t0 + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(runTask(skillBody(i)));
  }
  const samples = await Promise.all(pending);
  return report('1-step', samples, performance.now() - t0, { mode: 'open', rate_per_s: rate }, true);
}

const skillBody = (i: number) => JSON.stringify({ skill: 'echo', input: { ok: true, i } });
const workflowBody = (i: number) => JSON.stringify({ workflow: 'bench.three-step', input: { ok: true, i } });
const concs = args.conc.split(',').map(Number);

// Warm-up: JIT, connection pools, caches.
await closedLoop('warmup', skillBody, args.warmup, 32, false).then(() => undefined);
if (args.only === 'all' || args.only === 'closed') for (const c of concs) await closedLoop('1-step', skillBody, args.n, c, true);
if (args.only === 'all' || args.only === 'workflow') for (const c of concs) await closedLoop('3-step workflow', workflowBody, args.nWorkflow, c, false);
if (args.only === 'all' || args.only === 'open') await openLoop(args.rate, args.seconds);

sub.unsubscribe();
await nc.drain();
await agent.close();
