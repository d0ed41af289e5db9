// The skill catalogue through the five services as processes: listed, searched and read with its schemas through the
// gateway; a library skill, a Claude-backed text skill and a prompt skill (Agent Skills folder) run as tasks, offline.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Stack, submit, waitForTask } from './harness.js';

let stack: Stack;

beforeAll(async () => {
  stack = await Stack.start();
});
afterAll(async () => {
  await stack?.stop();
});

const get = async (path: string): Promise<{ status: number; body: Record<string, unknown> }> => {
  const r = await stack.gateway(path);
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
};
type Summary = { name: string; category: string; kind: string };

describe('skills end to end', () => {
  it('lists, searches and pages the catalogue, and reads a skill with its schemas', async () => {
    const all = (await get('/v1/skills?limit=500')).body.skills as Summary[];
    expect(all.length).toBeGreaterThanOrEqual(40);
    expect(all.map((s) => s.name)).toEqual(expect.arrayContaining(['echo', 'dev.git.status', 'data.json.query', 'text.summarise', 'docs.release-notes', 'ops.incident-summary']));
    expect(all.find((s) => s.name === 'docs.release-notes')).toMatchObject({ kind: 'prompt', category: 'docs' });

    const git = (await get('/v1/skills?q=GIT&category=dev')).body.skills as (Summary & { description: string })[];
    expect(git.map((s) => s.name)).toEqual(expect.arrayContaining(all.filter((s) => s.name.startsWith('dev.git.')).map((s) => s.name)));
    expect(git.every((s) => s.category === 'dev' && `${s.name} ${s.description}`.toLowerCase().includes('git'))).toBe(true);
    expect((await get('/v1/skills?q=release%20notes')).body.skills).toEqual([expect.objectContaining({ name: 'docs.release-notes' })]);

    const first = await get('/v1/skills?limit=5');
    const second = await get(`/v1/skills?limit=5&cursor=${String(first.body.nextCursor)}`);
    const names = [...(first.body.skills as Summary[]), ...(second.body.skills as Summary[])].map((s) => s.name);
    expect(names).toEqual(all.slice(0, 10).map((s) => s.name));

    const one = await get('/v1/skills/data.json.query');
    expect(one).toMatchObject({ status: 200, body: { name: 'data.json.query', inputSchema: { type: 'object' }, outputSchema: { type: 'object' } } });
    expect((await get('/v1/skills/no.such.skill')).status).toBe(404);
    expect((await get('/v1/skills/Not%20A%20Name')).status).toBe(400);
    expect((await get('/v1/skills?limit=0')).status).toBe(400);
  });

  it('runs a library skill, a text skill and a prompt skill as tasks (offline provider, and saying so)', async () => {
    const run = async (skill: string, input: Record<string, unknown>) => {
      const r = await submit(stack, { skill, input });
      expect(r.status).toBe(202);
      return (await waitForTask(stack, r.body.taskId as string)).task;
    };
    expect(await run('data.json.query', { expression: '$sum(orders[status="open"].total)', data: { orders: [{ status: 'open', total: 5 }, { status: 'closed', total: 7 }, { status: 'open', total: 2 }] } })).toMatchObject({
      status: 'completed',
      output: { result: 7 },
    });
    expect(await run('text.summarise', { text: 'The deploy failed at 10:02. A config key was missing. It was added and the deploy passed.', maxWords: 8 })).toMatchObject({
      status: 'completed',
      output: { summary: 'The deploy failed at 10:02.', offline: true },
    });
    const notes = await run('docs.release-notes', { task: 'Write the release notes for 1.2', context: { changes: ['fix: crash on empty input'] } });
    expect(notes).toMatchObject({ status: 'completed', output: { offline: true } });
    expect(await run('docs.release-notes', { context: {} })).toMatchObject({ status: 'failed', error: { code: 'invalid_input' } });
  });

  it('stores an output too large for the bus and passes references: the task still reads whole', async () => {
    const text = 'x'.repeat(300 * 1024);
    const r = await submit(stack, { skill: 'echo', input: { text } });
    expect(r.status).toBe(202);
    const taskId = r.body.taskId as string;
    const { task } = await waitForTask(stack, taskId);
    expect(task).toMatchObject({ status: 'completed' });
    expect((task.output as { text: string }).text).toHaveLength(text.length);
    const events = await stack.eventsOf(taskId);
    const result = events.find((e) => e.type === 'steward.skill.invocation.completed.v1')!;
    const completed = events.find((e) => e.type === 'steward.task.completed.v1')!;
    expect(result.data).toMatchObject({ output: null, outputRef: { bytes: JSON.stringify({ text }).length } });
    expect(completed.data).toMatchObject({ output: null, outputRef: (result.data as { outputRef: unknown }).outputRef });
  });
});
