// Crash test: 20-step workflows with parallel branches while the workflow-runner is SIGKILLed at random moments,
// again and again (at least 10 kills across the runs). Every run must complete with the right output, and every
// step's side effect (a line the skill appends to a file) must have happened exactly once.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Stack, submit, waitForTask } from './harness.js';

const KILLS = Number(process.env.CRASH_KILLS ?? 10);
const STEP_MS = 120;

/** s01 → s02..s07 (parallel) → s08..s13 (in sequence) → s14..s19 (parallel) → s20: 20 steps. */
function crashWorkflow(): string {
  const step = (id: string, extra = '') => `      - { id: ${id}, skill: test.record, with: { file: '\${{ inputs.file }}', tag: '\${{ inputs.run }}:${id}', ms: ${STEP_MS} }${extra} }`;
  const ids = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, k) => `s${String(from + k).padStart(2, '0')}`);
  return [
    'name: e2e.crash',
    'version: 1',
    'inputs: { type: object, properties: { run: { type: string }, file: { type: string } }, required: [run, file] }',
    'stages:',
    '  - steps:',
    step('s01'),
    '  - parallel: true',
    '    steps:',
    ...ids(2, 7).map((id) => step(id)),
    '  - steps:',
    ...ids(8, 13).map((id) => step(id)),
    '  - parallel: true',
    '    steps:',
    ...ids(14, 19).map((id) => step(id)),
    '  - steps:',
    step('s20'),
    'outputs:',
    `  tags: '\${{ [${ids(14, 19).map((id) => `steps.${id}.output.tag`).join(', ')}] }}'`,
    `  last: '\${{ steps.s20.output.tag }}'`,
  ].join('\n');
}

let stack: Stack;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'e2e-crash-'));
  const defs = join(dir, 'workflows');
  await import('node:fs/promises').then((fs) => fs.mkdir(defs));
  await writeFile(join(defs, 'crash.yaml'), crashWorkflow());
  stack = await Stack.start({
    env: {
      'skill-worker': { TEST_SKILLS: 'true' },
      // A batch the killed runner held comes back after 1 s instead of 30 s; timers are swept often.
      'workflow-runner': { WORKFLOWS_DIR: defs, CONSUMER_ACK_WAIT_MS: '1000', TIMER_POLL_MS: '200' },
    },
  });
});
afterAll(async () => {
  await stack?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const random = (min: number, max: number) => min + Math.floor(Math.random() * (max - min));

describe('crash test', () => {
  it(`every run completes exactly once per step while the workflow-runner is SIGKILLed ${KILLS}+ times`, async () => {
    const file = join(dir, 'effects.log');
    await writeFile(file, '');
    const runs: { name: string; taskId: string }[] = [];
    const submitRun = async () => {
      const name = `r${runs.length + 1}`;
      const r = await submit(stack, { workflow: 'e2e.crash', input: { run: name, file } });
      expect(r.status).toBe(202);
      runs.push({ name, taskId: r.body.taskId as string });
    };
    const status = async (taskId: string) => ((await (await stack.gateway(`/v1/tasks/${taskId}`)).json()) as { status: string }).status;

    let kills = 0;
    while (kills < KILLS) {
      // Keep work in flight: at least two unfinished runs when the runner dies.
      const open = (await Promise.all(runs.map(async (r) => ((await status(r.taskId)) === 'completed' ? 0 : 1)))).reduce<number>((a, b) => a + b, 0);
      for (let i = open; i < 2; i++) await submitRun();
      await sleep(random(50, 900)); // a random point of the runs
      expect(await stack.kill('workflow-runner', 'SIGKILL')).toBeNull();
      kills++;
      await sleep(random(0, 300));
      await stack.startService('workflow-runner');
    }

    for (const r of runs) {
      const { task } = await waitForTask(stack, r.taskId, 120_000);
      expect(task.status, `run ${r.name}`).toBe('completed');
      expect(task.output).toEqual({ tags: Array.from({ length: 6 }, (_, k) => `${r.name}:s${14 + k}`), last: `${r.name}:s20` });
    }
    // Side effects: exactly one line per step of every run.
    const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { tag: string });
    const count = new Map<string, number>();
    for (const l of lines) count.set(l.tag, (count.get(l.tag) ?? 0) + 1);
    const expected = runs.flatMap((r) => Array.from({ length: 20 }, (_, k) => `${r.name}:s${String(k + 1).padStart(2, '0')}`));
    expect([...count.keys()].sort()).toEqual(expected.sort());
    expect([...count.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    expect(kills).toBeGreaterThanOrEqual(10);
    console.log(`crash test: ${kills} SIGKILLs of the workflow-runner across ${runs.length} runs, ${lines.length} side effects, each exactly once`);
  }, 600_000);
});
