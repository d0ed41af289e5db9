// Submits a single-skill task, a two-step workflow and a workflow with a decision for the person to a running stack,
// answers the decision through the API as the person would, and prints how each went.
import { z } from 'zod';

const base = process.env.STEWARD_URL ?? 'http://127.0.0.1:8080';
const apiKey = process.env.STEWARD_API_KEY;
if (!apiKey) {
  console.error('STEWARD_API_KEY is not set (scripts/up.sh issues one into .steward/api-key; or: pnpm admin create-tenant default)');
  process.exit(2);
}
const auth = { authorization: `Bearer ${apiKey}` };
const Task = z.object({ taskId: z.string(), status: z.string(), output: z.unknown().optional(), error: z.unknown().optional(), createdAt: z.string(), completedAt: z.string().optional() });

const Decisions = z.object({ decisions: z.array(z.object({ id: z.string(), status: z.string(), taskId: z.string().optional(), proposal: z.string().optional(), reasons: z.array(z.string()), resolvedBy: z.string().optional(), choice: z.string().optional() })) });

/** Plays the person: when the task's decision is escalated, answers it with `choice` through the API (once). */
function person(choice: string): (taskId: string) => Promise<void> {
  let answered = false;
  return async (taskId) => {
    if (answered) return;
    const { decisions } = Decisions.parse(await (await fetch(`${base}/v1/decisions?limit=50`, { headers: auth })).json());
    const d = decisions.find((x) => x.taskId === taskId);
    if (!d || d.status === 'pending') return;
    answered = true;
    if (d.status !== 'escalated') {
      console.log(`  decision ${d.id}: ${d.resolvedBy} chose "${d.choice}" (${d.reasons[0] ?? ''})`);
      return;
    }
    console.log(`  decision ${d.id} escalated to the person: ${d.reasons[0] ?? ''}`);
    const r = await fetch(`${base}/v1/decisions/${d.id}/answer`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ choice, answeredBy: 'demo' }) });
    console.log(`  POST /v1/decisions/${d.id}/answer {"choice":"${choice}"} → ${r.status}`);
  };
}

async function run(label: string, body: unknown, meanwhile?: (taskId: string) => Promise<void>): Promise<boolean> {
  const t0 = performance.now();
  const res = await fetch(`${base}/v1/tasks`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const submitted = (await res.json()) as { taskId?: string };
  if (res.status !== 202 || !submitted.taskId) {
    console.error(`✗ ${label}: HTTP ${res.status} ${JSON.stringify(submitted)}`);
    return false;
  }
  console.log(`  POST /v1/tasks ${JSON.stringify(body)} → 202 ${submitted.taskId}`);
  const seen: string[] = [];
  for (;;) {
    const task = Task.parse(await (await fetch(`${base}/v1/tasks/${submitted.taskId}`, { headers: auth })).json());
    if (seen.at(-1) !== task.status) seen.push(task.status);
    if (['completed', 'failed', 'cancelled'].includes(task.status)) {
      const ms = (performance.now() - t0).toFixed(0);
      const ok = task.status === 'completed';
      console.log(`${ok ? '✓' : '✗'} ${label}: ${seen.join(' → ')} in ${ms} ms`);
      console.log(`  output: ${JSON.stringify(ok ? task.output : task.error)}`);
      return ok;
    }
    if (performance.now() - t0 > 30_000) {
      console.error(`✗ ${label}: still ${task.status} after 30 s`);
      return false;
    }
    await meanwhile?.(submitted.taskId);
    await new Promise((r) => setTimeout(r, 25));
  }
}

console.log(`Steward demo against ${base}`);
const a = await run('skill task (echo)', { skill: 'echo', input: { message: 'hello from Steward' } });
const b = await run('two-step workflow (demo.shout: echo → text.uppercase)', { workflow: 'demo.shout', input: { greeting: 'hello', to: { name: 'world' } } });
const c = await run(
  'workflow with a decision (example.review-change: checks in parallel, then the person decides)',
  { workflow: 'example.review-change', input: { title: 'raise the rate limit', risk: 'high' } },
  person('ship'),
);
process.exit(a && b && c ? 0 : 1);
