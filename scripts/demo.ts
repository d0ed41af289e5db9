// Submits a single-skill task and a two-step workflow to a running stack and prints how each went.
import { z } from 'zod';

const base = process.env.STEWARD_URL ?? 'http://127.0.0.1:8080';
const Task = z.object({ taskId: z.string(), status: z.string(), output: z.unknown().optional(), error: z.unknown().optional(), createdAt: z.string(), completedAt: z.string().optional() });

async function run(label: string, body: unknown): Promise<boolean> {
  const t0 = performance.now();
  const res = await fetch(`${base}/v1/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const submitted = (await res.json()) as { taskId?: string };
  if (res.status !== 202 || !submitted.taskId) {
    console.error(`✗ ${label}: HTTP ${res.status} ${JSON.stringify(submitted)}`);
    return false;
  }
  console.log(`  POST /v1/tasks ${JSON.stringify(body)} → 202 ${submitted.taskId}`);
  const seen: string[] = [];
  for (;;) {
    const task = Task.parse(await (await fetch(`${base}/v1/tasks/${submitted.taskId}`)).json());
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
    await new Promise((r) => setTimeout(r, 25));
  }
}

console.log(`Steward demo against ${base}`);
const a = await run('skill task (echo)', { skill: 'echo', input: { message: 'hello from Steward' } });
const b = await run('two-step workflow (demo.shout: echo → text.uppercase)', { workflow: 'demo.shout', input: { greeting: 'hello', to: { name: 'world' } } });
process.exit(a && b ? 0 : 1);
