// Benchmark of the gateway's own HTTP path: requests/s and latency p50/p95/p99 of `POST /v1/tasks` (submit: auth,
// validation, the task row and its outbox event in one statement) and `GET /v1/tasks/:id` (get: auth, one indexed
// read), closed-loop at several concurrency levels and open-loop at a sweep of fixed rates. Latency is per HTTP
// request, as the client sees it (not the task's completion: that is `pnpm bench`). Target (issue 6): p99 ≤ 20 ms;
// the last lines name, for each operation, the highest open-loop rate whose p99 met it.
//
//   ./scripts/up.sh                                  # a stack on :8080, admin key in .steward/api-key
//   pnpm bench:gateway                               # submit and get at C=1,16,64,256, then open loops at 25…400/s
//   pnpm bench:gateway --conc=1,32 --seconds=5 --rate=50,100 --rateSeconds=10 --ops=get --json
//
// The key comes from --key, else STEWARD_API_KEY, else .steward/api-key. Each key is rate-limited
// (RATE_LIMIT_PER_SECOND, 5000 by default): answers 429 are counted as errors, so raise the limit for a run that
// goes faster. Submitted tasks are real `echo` tasks that the rest of the stack then runs: on a shared machine that
// work competes with the gateway, as it does in production.
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { Agent, request } from 'undici';
import { z } from 'zod';

const Args = z.object({
  url: z.string().default(process.env.STEWARD_URL ?? 'http://127.0.0.1:8080'),
  key: z.string().default(process.env.STEWARD_API_KEY ?? (existsSync('.steward/api-key') ? readFileSync('.steward/api-key', 'utf8').trim() : '')),
  ops: z.string().default('submit,get'),
  conc: z.string().default('1,16,64,256'),
  /** Seconds per closed-loop level, after `warmupSeconds` not measured. */
  seconds: z.coerce.number().positive().default(10),
  warmupSeconds: z.coerce.number().min(0).default(2),
  /** The open-loop arrival rates (requests/s), each run for rateSeconds; 0 skips them. */
  rate: z.string().default('25,50,100,200,400'),
  rateSeconds: z.coerce.number().positive().default(20),
  /** Tasks submitted up front for `get` to read (chosen at random per request). */
  pool: z.coerce.number().int().positive().default(1000),
  skill: z.string().default('echo'),
  json: z.enum(['', 'true', 'false']).default('false').transform((v) => v !== 'false'),
});
const args = Args.parse(Object.fromEntries(process.argv.slice(2).map((a) => { const [k, v = ''] = a.replace(/^--/, '').split('='); return [k, v]; })));
if (!args.key) {
  console.error('bench:gateway: no API key: --key=…, STEWARD_API_KEY, or .steward/api-key (written by scripts/up.sh)');
  process.exit(2);
}

const TARGET_P99_MS = 20;
const concs = args.conc.split(',').map(Number).filter((c) => c > 0);
const rates = args.rate.split(',').map(Number).filter((r) => r > 0);
const ops = new Set(args.ops.split(','));
const agent = new Agent({ connections: Math.max(...concs, 16), pipelining: 1, keepAliveTimeout: 30_000 });
const auth = { authorization: `Bearer ${args.key}` };

type Op = 'submit' | 'get';
interface Outcome {
  ms: number;
  status: number;
}

let seq = 0;
const taskIds: string[] = [];

/** One request of `op`; resolves with its latency and status (0 when the connection failed). */
async function once(op: Op, startedAt = performance.now()): Promise<Outcome> {
  try {
    if (op === 'submit') {
      const res = await request(`${args.url}/v1/tasks`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ skill: args.skill, input: { bench: 'gateway', i: seq++ } }),
        dispatcher: agent,
      });
      const body = (await res.body.json()) as { taskId?: string };
      if (res.statusCode === 202 && body.taskId && taskIds.length < 100_000) taskIds.push(body.taskId);
      return { ms: performance.now() - startedAt, status: res.statusCode };
    }
    const id = taskIds[Math.floor(Math.random() * taskIds.length)]!;
    const res = await request(`${args.url}/v1/tasks/${id}`, { method: 'GET', headers: auth, dispatcher: agent });
    await res.body.dump();
    return { ms: performance.now() - startedAt, status: res.statusCode };
  } catch {
    return { ms: performance.now() - startedAt, status: 0 };
  }
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;

function cpuSnap() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3]! + f[4]!;
  return { busy: f.reduce((a, b) => a + b, 0) - idle, total: f.reduce((a, b) => a + b, 0) };
}

const results: Record<string, unknown>[] = [];

function report(op: Op, mode: Record<string, unknown>, outcomes: Outcome[], wallMs: number, cpu0: ReturnType<typeof cpuSnap>) {
  const cpu1 = cpuSnap();
  const expected = op === 'submit' ? 202 : 200;
  const lat = outcomes.map((o) => o.ms).sort((a, b) => a - b);
  const statuses: Record<string, number> = {};
  for (const o of outcomes) statuses[o.status] = (statuses[o.status] ?? 0) + 1;
  const p99 = pct(lat, 99);
  const out = {
    system: 'steward-gateway',
    op: op === 'submit' ? 'POST /v1/tasks' : 'GET /v1/tasks/:id',
    ...mode,
    n: outcomes.length,
    wall_s: +(wallMs / 1000).toFixed(3),
    per_s: +((outcomes.length / wallMs) * 1000).toFixed(1),
    p50_ms: +pct(lat, 50).toFixed(2),
    p95_ms: +pct(lat, 95).toFixed(2),
    p99_ms: +p99.toFixed(2),
    max_ms: +(lat.at(-1) ?? NaN).toFixed(2),
    errors: outcomes.filter((o) => o.status !== expected).length,
    statuses,
    p99_target_ms: TARGET_P99_MS,
    p99_met: p99 <= TARGET_P99_MS,
    machine_cpu_cores: +(((cpu1.busy - cpu0.busy) / (cpu1.total - cpu0.total)) * cpus().length).toFixed(2),
    date: new Date().toISOString(),
  };
  console.log(args.json ? JSON.stringify(out) : out);
  results.push(out);
}

/** `conc` lanes, each sending its next request when the last one is answered, for `seconds` (after a warm-up). */
async function closedLoop(op: Op, conc: number) {
  const run = async (seconds: number) => {
    const outcomes: Outcome[] = [];
    const until = performance.now() + seconds * 1000;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: conc }, async () => {
      while (performance.now() < until) outcomes.push(await once(op));
    }));
    return { outcomes, wallMs: performance.now() - t0 };
  };
  if (args.warmupSeconds > 0) await run(args.warmupSeconds);
  const cpu0 = cpuSnap();
  const { outcomes, wallMs } = await run(args.seconds);
  report(op, { mode: 'closed', concurrency: conc }, outcomes, wallMs, cpu0);
}

/**
 * Requests sent at a fixed rate whatever the answers: latency is measured from when each was due, so a gateway
 * that falls behind shows it (no coordinated omission).
 */
async function openLoop(op: Op, rate: number) {
  const n = Math.round(rate * args.rateSeconds);
  const interval = 1000 / rate;
  const pending: Promise<Outcome>[] = [];
  const cpu0 = cpuSnap();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const due = t0 + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(once(op, due));
  }
  const outcomes = await Promise.all(pending);
  report(op, { mode: 'open', rate_per_s: rate }, outcomes, performance.now() - t0, cpu0);
}

// Fail fast on a wrong URL or key.
const ready = await request(`${args.url}/v1/tasks/00000000-0000-4000-8000-000000000000`, { headers: auth, dispatcher: agent }).catch((err: unknown) => {
  console.error(`bench:gateway: ${args.url} does not answer (${(err as Error).message}); start a stack with ./scripts/up.sh`);
  process.exit(2);
});
await ready.body.dump();
if (ready.statusCode === 401 || ready.statusCode === 403) {
  console.error(`bench:gateway: the API key was refused (${ready.statusCode}); it needs the submit and read scopes`);
  process.exit(2);
}

// Tasks for `get` to read, submitted before anything is measured.
while (taskIds.length < args.pool) {
  const batch = await Promise.all(Array.from({ length: Math.min(32, args.pool - taskIds.length) }, () => once('submit')));
  const failed = batch.find((o) => o.status !== 202);
  if (failed) {
    console.error(`bench:gateway: POST /v1/tasks answered ${failed.status} while preparing (is the skill "${args.skill}" registered? --skill=…)`);
    process.exit(1);
  }
}

for (const op of ['submit', 'get'] as const) {
  if (!ops.has(op)) continue;
  for (const c of concs) await closedLoop(op, c);
  for (const rate of rates) await openLoop(op, rate);
}

await agent.close();
console.log('\n| op | mode | per s | p50 ms | p95 ms | p99 ms | p99 ≤ 20 ms | errors | machine CPU |\n|---|---|---|---|---|---|---|---|---|');
for (const r of results) {
  const mode = r['mode'] === 'closed' ? `C=${String(r['concurrency'])}` : `${String(r['rate_per_s'])}/s open`;
  console.log(`| ${String(r['op'])} | ${mode} | ${String(r['per_s'])} | ${String(r['p50_ms'])} | ${String(r['p95_ms'])} | ${String(r['p99_ms'])} | ${r['p99_met'] ? 'yes' : 'no'} | ${String(r['errors'])} | ${String(r['machine_cpu_cores'])} |`);
}
for (const op of ['POST /v1/tasks', 'GET /v1/tasks/:id']) {
  const met = results.filter((r) => r['op'] === op && r['mode'] === 'open' && r['p99_met'] === true).map((r) => r['rate_per_s'] as number);
  const ran = results.some((r) => r['op'] === op && r['mode'] === 'open');
  if (ran) console.log(`${op}: ${met.length > 0 ? `p99 ≤ ${TARGET_P99_MS} ms up to ${Math.max(...met)} requests/s (open loop)` : `p99 ≤ ${TARGET_P99_MS} ms at none of the rates tried`}`);
}
if (results.some((r) => (r['errors'] as number) > 0)) {
  console.error('bench:gateway: some requests failed or were refused (see statuses)');
  process.exit(1);
}
