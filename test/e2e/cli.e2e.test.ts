// The `steward` CLI as a person or a script uses it: the real binary (node apps/cli/bin/steward.js, from source)
// against the five services as processes. Login stores the key (0600) and refuses a bad one; skill and workflow
// tasks are submitted and watched to the end; escalations are answered from `steward inbox` by writing keys to its
// stdin; the audit trail is replayed and tailed.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Stack, until, waitForTask } from './harness.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'apps', 'cli', 'bin', 'steward.js');

let stack: Stack;
let home: string;

const REVIEW = `
name: e2e.cli-review
version: 1
description: One decision, then an echo of the choice.
steps:
  - id: decide
    decision:
      type: e2e.cli_merge
      options: [{ id: merge, label: Merge the change }, { id: hold, label: Hold it }]
      proposal: merge
      context: { risk: low, reversible: true, confidence: 0.9 }
  - { id: act, skill: echo, with: { choice: '\${{ steps.decide.output.choice }}' } }
outputs:
  choice: '\${{ steps.act.output.choice }}'
`;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'e2e-cli-'));
  await writeFile(join(home, 'review.yaml'), REVIEW);
  await writeFile(join(home, 'input.yaml'), 'greeting: hello\nto:\n  name: world\n');
  stack = await Stack.start({ env: { escalation: { TIMER_POLL_MS: '200' } } });
}, 300_000);
afterAll(async () => {
  await stack?.stop();
});

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment of every run: a private config directory, no colour, the source (not a stale dist/). */
function cliEnv(extra: Record<string, string> = {}, withKey = true): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: home,
    XDG_CONFIG_HOME: join(home, 'config'),
    NO_COLOR: '1',
    STEWARD_CLI_SOURCE: '1',
    ...(withKey ? { STEWARD_URL: stack.url('gateway'), STEWARD_API_KEY: stack.apiKey } : {}),
    ...extra,
  };
}

function start(args: string[], env: Record<string, string> = cliEnv()): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [CLI, ...args], { env, cwd: home });
}

/** Runs `steward …` to its end (stdin closed at once). */
function steward(args: string[], env?: Record<string, string>): Promise<Result> {
  const child = start(args, env);
  child.stdin.end();
  return collect(child);
}

function collect(child: ChildProcessWithoutNullStreams, timeoutMs = 120_000): Promise<Result> {
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`steward did not finish in ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const parse = <T = Record<string, unknown>>(r: Result): T => {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.code}):\n${r.stdout}\nstderr: ${r.stderr}`);
  }
};

describe('steward CLI end to end', () => {
  it('login checks the key and stores it readable by its owner only; a bad key is refused; logout forgets it', async () => {
    const bare = cliEnv({}, false);
    const url = stack.url('gateway');

    const none = await steward(['skills', 'list'], bare);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('steward login');

    const bad = await steward(['login', '--url', url, '--key', 'stw_aaaaaaaaaaaa_notarealkeynotarealkeynotarealkeynotarealkey1'], bare);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('refused the key');
    await expect(stat(join(home, 'config', 'steward', 'config.json'))).rejects.toThrow();

    const ok = await steward(['login', '--url', `${url}/`, '--key', stack.apiKey, '--json'], bare);
    expect(ok.code, ok.stderr).toBe(0);
    expect(parse(ok)).toMatchObject({ url, config: join(home, 'config', 'steward', 'config.json'), scopes: ['admin'], canRead: true });
    expect(ok.stdout).not.toContain(stack.apiKey);
    const file = join(home, 'config', 'steward', 'config.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ url, apiKey: stack.apiKey });

    // The saved login is used without any environment.
    const listed = await steward(['skills', 'list', '--q', 'upper', '--json'], bare);
    expect(listed.code, listed.stderr).toBe(0);
    expect(parse<{ skills: { name: string }[] }>(listed).skills.map((s) => s.name)).toContain('text.uppercase');

    // The environment wins over the file.
    const overridden = await steward(['skills', 'list'], { ...bare, STEWARD_API_KEY: 'stw_bbbbbbbbbbbb_revokedrevokedrevokedrevokedrevokedrevokedrev' });
    expect(overridden.code).toBe(1);
    expect(overridden.stderr).toContain('HTTP 401 unauthenticated');

    const out = await steward(['logout', '--json'], bare);
    expect(out.code, out.stderr).toBe(0);
    expect(parse(out)).toEqual({ loggedOut: true, config: file });
    await expect(stat(file)).rejects.toThrow();
    const again = await steward(['logout'], bare);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`not logged in (no ${file})`);
  }, 300_000);

  it('lists and shows skills and workflows, as text and as JSON', async () => {
    const skills = await steward(['skills', 'list', '--json']);
    expect(skills.code, skills.stderr).toBe(0);
    const names = parse<{ skills: { name: string }[] }>(skills).skills.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['echo', 'text.uppercase', 'util.sleep']));
    expect(names.length).toBeGreaterThan(30);

    const text = await steward(['skills', '--category', 'text']);
    expect(text.code).toBe(0);
    expect(text.stdout.split('\n')[0]).toMatch(/^NAME\s+CATEGORY\s+KIND\s+DESCRIPTION$/);
    expect(text.stdout).toMatch(/^text\.uppercase\s+text\s+code\s+Upper-cases/m);
    expect(text.stdout).not.toMatch(/^echo\s/m);

    const echo = await steward(['skills', 'show', 'echo', '--json']);
    expect(parse(echo)).toMatchObject({ name: 'echo', category: 'core', inputSchema: expect.any(Object) as unknown });

    const workflows = await steward(['workflows', '--json']);
    expect(parse<{ workflows: { name: string; tenant: string }[] }>(workflows).workflows).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'demo.shout', tenant: 'system' })]));
    const shown = await steward(['workflows', 'show', 'demo.shout']);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('demo.shout@1');
    expect(shown.stdout).toContain('"skill": "text.uppercase"');
    const shownJson = await steward(['workflows', 'show', 'demo.shout', '--json']);
    expect(shownJson.code, shownJson.stderr).toBe(0);
    const doc = parse<{ name: string; version: number; tenant: string; versions: number[]; hash: string; definition: { steps: { skill?: string }[] } }>(shownJson);
    expect(doc).toMatchObject({ name: 'demo.shout', version: 1, tenant: 'system', versions: [1], hash: expect.any(String) as unknown });
    expect(doc.definition.steps.map((st) => st.skill)).toContain('text.uppercase');

    const registered = await steward(['workflows', 'register', join(home, 'review.yaml'), '--json']);
    expect(registered.code, registered.stderr).toBe(0);
    expect(parse(registered)).toMatchObject({ name: 'e2e.cli-review', version: 1, status: 'registered' });
    const again = await steward(['workflows', 'register', join(home, 'review.yaml')]);
    expect(again.stdout).toContain('e2e.cli-review@1 already registered, unchanged');

    const missing = await steward(['skills', 'show', 'no.such.skill']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('HTTP 404 not_found');
  }, 300_000);

  it('submits a skill task and a workflow and watches them to the end; a failed task exits 1', async () => {
    // A skill, watched in the same command, as JSON.
    const skill = await steward(['submit', 'echo', '-i', 'message=hello', '-i', 'n:=3', '--watch', '--json']);
    expect(skill.code, skill.stderr).toBe(0);
    expect(parse(skill)).toMatchObject({ status: 'completed', kind: 'skill', skill: 'echo', output: { message: 'hello', n: 3 } });

    // A workflow from a YAML input file (a skill of that name does not exist, so it is taken as a workflow).
    const submitted = await steward(['submit', 'demo.shout', '--input-file', join(home, 'input.yaml'), '--json']);
    expect(submitted.code, submitted.stderr).toBe(0);
    const { taskId, kind } = parse<{ taskId: string; kind: string }>(submitted);
    expect(kind).toBe('workflow');
    const watched = await steward(['watch', taskId]);
    expect(watched.code, watched.stderr).toBe(0);
    expect(watched.stdout).toContain(`✓ demo.shout@1 completed in`);
    expect(watched.stdout).toContain('"greeting": "HELLO"');

    // The same, polling, as JSON; and the task as `tasks show` sees it, with its steps.
    const polled = await steward(['watch', taskId, '--poll', '--json']);
    expect(parse(polled)).toMatchObject({ taskId, status: 'completed', output: { greeting: 'HELLO', to: { name: 'WORLD' } } });
    const shown = await steward(['tasks', 'show', taskId, '--json']);
    expect(parse<{ runs: { steps: { stepPath: string; status: string }[] }[] }>(shown).runs[0]!.steps.map((s) => [s.stepPath, s.status])).toEqual([
      ['echo', 'completed'],
      ['shout', 'completed'],
    ]);

    // A long workflow watched live: the progress lines count the steps (plain lines when stdout is not a terminal).
    const nested = await steward(['submit', 'example.nested', '--workflow', '--input', '{"words":["a","b","c","d"]}', '--watch']);
    expect(nested.code, nested.stderr).toBe(0);
    expect(nested.stdout).toMatch(/example\.nested@1 running · \d+\/\d+ steps/);
    expect(nested.stdout).toContain('example.nested@1 completed in');

    // A workflow whose input is refused fails: exit 1, with the error.
    const failed = await steward(['submit', 'example.nested', '--workflow', '--watch']);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('✗ example.nested@1 failed');
    expect(failed.stdout).toContain('error: invalid_input');

    // Input errors are caught before anything is sent, API refusals show the code.
    const badInput = await steward(['submit', 'echo', '--input', '[1,2]']);
    expect(badInput).toMatchObject({ code: 2, stderr: expect.stringContaining('--input must be a JSON object') as string });
    const unknown = await steward(['submit', 'no.such.thing', '--json']);
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.stderr)).toMatchObject({ error: { message: 'there is no skill or workflow named "no.such.thing"' } });
  }, 300_000);

  it('lists tasks and cancels one; watching it then exits 1', async () => {
    const sleeping = parse<{ taskId: string }>(await steward(['submit', 'util.sleep', '-i', 'ms:=60000', '--json']));
    const list = await steward(['tasks', 'list', '--status', 'pending,running', '--json']);
    expect(list.code, list.stderr).toBe(0);
    expect(parse<{ tasks: { taskId: string }[] }>(list).tasks.map((t) => t.taskId)).toContain(sleeping.taskId);
    const cancelled = await steward(['tasks', 'cancel', sleeping.taskId, '--reason', 'e2e', '--json']);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(parse(cancelled)).toEqual({
      taskId: sleeping.taskId,
      status: expect.stringMatching(/^(pending|running)$/) as unknown,
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown,
      alreadyCancelled: false,
      via: `POST /v1/tasks/${sleeping.taskId}/cancel`,
    });
    const watched = await steward(['watch', sleeping.taskId, '--json']);
    expect(watched.code).toBe(1);
    expect(parse(watched)).toMatchObject({ status: 'cancelled' });
    const again = await steward(['tasks', 'cancel', sleeping.taskId]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`task ${sleeping.taskId} was already cancelled`);
  }, 300_000);

  it('answers an escalated decision in the inbox with one key per answer, and with `steward answer`', async () => {
    // Every decision of this type goes to the person, one per batch.
    const policy = await stack.gateway('/v1/escalations/policy', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ batchSize: 1, auditRate: 0, rules: [{ id: 'cli', when: { type: 'e2e.cli_merge' }, action: 'always_escalate' }] }),
    });
    expect(policy.status).toBe(200);
    const registered = await steward(['workflows', 'register', join(home, 'review.yaml')]);
    expect(registered.code, registered.stderr).toBe(0);

    // The inbox is open before anything is escalated: it waits, and the escalation stream wakes it.
    const inbox = start(['inbox', '--wait', '--by', 'ada']);
    const done = collect(inbox);
    let shown = '';
    inbox.stdout.on('data', (d: Buffer) => (shown += d.toString()));
    await until('the inbox to wait', async () => (shown.includes('Waiting for escalations') ? true : undefined), 60_000);

    const first = parse<{ taskId: string }>(await steward(['submit', 'e2e.cli-review', '--workflow', '--json'])).taskId;
    const second = parse<{ taskId: string }>(await steward(['submit', 'e2e.cli-review', '--workflow', '--json'])).taskId;
    type Listed = { batches: { id: string; decisions: { id: string; taskId: string; status: string; proposal: string; reasons: string[] }[] }[] };
    const pending = await until('both decisions in the inbox', async () => {
      const l = parse<Listed>(await steward(['inbox', '--json']));
      const decisions = l.batches.flatMap((b) => b.decisions);
      return [first, second].every((t) => decisions.some((d) => d.taskId === t && d.status === 'escalated')) ? decisions : undefined;
    }, 60_000);
    const d1 = pending.find((d) => d.taskId === first)!;
    const d2 = pending.find((d) => d.taskId === second)!;
    expect(d1.proposal).toBe('merge');
    expect(d1.reasons.length).toBeGreaterThan(0);

    // Driven through its stdin: a key that means nothing, then "2" (hold) for the first task's decision and "s"
    // (skip) for the other, whichever comes first; then stdin ends, which quits.
    const prompts = (): number => shown.split('q quit ›').length - 1;
    const current = (): string | undefined => [...shown.matchAll(/decision ([0-9a-f-]{36})/g)].at(-1)?.[1];
    await until('the first prompt', async () => (prompts() >= 1 ? true : undefined), 60_000);
    inbox.stdin.write('x');
    await until('the prompt again, after x', async () => (prompts() >= 2 ? true : undefined));
    expect(shown).toContain('"x" means nothing here');
    inbox.stdin.write(current() === d1.id ? '2' : 's');
    await until('the second decision', async () => (prompts() >= 3 ? true : undefined), 60_000);
    inbox.stdin.write(current() === d1.id ? '2' : 's');
    inbox.stdin.end();
    const result = await done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Proposal:   merge — Merge the change');
    expect(result.stdout).toContain('Confidence:');
    expect(result.stdout).toMatch(/1\) merge\s+Merge the change {2}← proposed/);
    expect(result.stdout).toContain('✓ answered hold');
    expect(result.stdout).toContain('1 answered, 1 skipped (quit).');
    expect((await waitForTask(stack, first)).task).toMatchObject({ status: 'completed', output: { choice: 'hold' } });

    // The skipped one, answered by a script: by its number (1 = merge).
    const answered = await steward(['answer', d2.id, '1', '--json']);
    expect(answered.code, answered.stderr).toBe(0);
    expect(parse(answered)).toMatchObject({ decisionId: d2.id, choice: 'merge' });
    expect((await waitForTask(stack, second)).task).toMatchObject({ status: 'completed', output: { choice: 'merge' } });
    const closed = await steward(['answer', d2.id, 'hold']);
    expect(closed.code).toBe(1);
    expect(closed.stderr).toContain('HTTP 409 decision_closed');

    // Nothing is left: the inbox says so.
    const empty = await steward(['inbox']);
    expect(empty.code).toBe(0);
    expect(empty.stdout).toContain('Inbox empty');
  }, 300_000);

  it("replays a task's events in order as CloudEvents, and tails them until the task ends", async () => {
    const { taskId } = parse<{ taskId: string }>(await steward(['submit', 'demo.shout', '--workflow', '-i', 'greeting=hey', '--json']));
    await waitForTask(stack, taskId);
    const replay = await until('the final event in the audit trail', async () => {
      const r = await steward(['events', 'replay', '--task', taskId, '--json']);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout.includes('steward.task.completed.v1') ? r : undefined;
    });
    const events = replay.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { specversion: string; type: string; correlationid: string; sequence: string });
    expect(events.every((e) => e.specversion === '1.0' && e.correlationid === taskId)).toBe(true);
    const types = events.map((e) => e.type.replace(/^steward\./, '').replace(/\.v1$/, ''));
    expect(types[0]).toBe('task.submitted');
    expect(types.at(-1)).toBe('task.completed');
    expect(types).toEqual(expect.arrayContaining(['task.started', 'workflow.run.started', 'step.run.completed', 'workflow.run.completed']));
    const seqs = events.map((e) => Number(e.sequence));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));

    // Text, resumed after the first event; and the tenant's events of one type.
    const rest = await steward(['events', 'replay', '--task', taskId, '--after', String(seqs[0])]);
    expect(rest.stdout.trim().split('\n')).toHaveLength(events.length - 1);
    expect(rest.stdout).toMatch(/^#\d+\s+\d\d:\d\d:\d\d\.\d{3}\s+task\.completed\s+task [0-9a-f]{8}/m);
    const completed = await steward(['events', 'replay', '--type', 'task.completed', '--json']);
    const all = completed.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; correlationid: string });
    expect(all.every((e) => e.type === 'steward.task.completed.v1')).toBe(true);
    expect(all.map((e) => e.correlationid)).toContain(taskId);

    // tail --task on a finished task: its events, then it ends by itself.
    const tail = await steward(['events', 'tail', '--task', taskId, '--type', 'task.completed']);
    expect(tail.code, tail.stderr).toBe(0);
    expect(tail.stdout.trim().split('\n')).toHaveLength(1);
    expect(tail.stderr).toContain(`task ${taskId} ended (completed)`);
  }, 300_000);

  it("tails the tenant's events as NDJSON CloudEvents until stopped, and a task's with --task --json until it ends", async () => {
    type Line = { specversion: string; id: string; type: string; tenantid: string; correlationid: string; sequence: string };
    // The tenant-wide tail starts at "now" when its first poll is made; the gateway's request metric says when that
    // poll has been answered, so the task below is surely submitted after it.
    const polls = async () =>
      [...(await (await fetch(stack.url('gateway', '/metrics'))).text()).matchAll(/^steward_http_request_duration_seconds_count\{([^}]*)\} (\d+)$/gm)]
        .filter((m) => m[1]!.includes('route="/v1/audit/events"'))
        .reduce((n, m) => n + Number(m[2]), 0);
    const before = await polls();
    const tail = start(['events', 'tail', '--json', '--interval', '200']);
    tail.stdin.end();
    const done = collect(tail);
    let stdout = '';
    tail.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    // Complete lines only, each one CloudEvent.
    const lines = () => stdout.split('\n').slice(0, -1).map((l) => JSON.parse(l) as Line);
    await until('the tail to poll', async () => ((await polls()) > before ? true : undefined), 60_000);

    const { taskId } = parse<{ taskId: string }>(await steward(['submit', 'demo.shout', '--workflow', '-i', 'greeting=tail', '--json']));
    const mine = () => lines().filter((e) => e.correlationid === taskId);
    await until('the task.completed line', async () => (mine().some((e) => e.type === 'steward.task.completed.v1') ? true : undefined), 60_000);
    tail.kill('SIGINT');
    const stopped = await done;
    expect(stopped.code).toBeNull(); // it ran until stopped
    expect(stopped.stderr).toBe('');
    const all = lines();
    expect(all.length).toBeGreaterThan(0);
    expect(all.every((e) => e.specversion === '1.0' && e.tenantid === 'default' && /^\d+$/.test(e.sequence))).toBe(true);
    const seqs = all.map((e) => Number(e.sequence));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const tenantWide = mine().map((e) => e.type.replace(/^steward\./, '').replace(/\.v1$/, ''));
    expect(tenantWide[0]).toBe('task.submitted');
    expect(tenantWide.at(-1)).toBe('task.completed');

    // --task --json on the finished task: the same events, one JSON line each, and it ends by itself.
    const byTask = await steward(['events', 'tail', '--task', taskId, '--json']);
    expect(byTask.code, byTask.stderr).toBe(0);
    expect(byTask.stdout.endsWith('\n')).toBe(true);
    const taskLines = byTask.stdout.trim().split('\n').map((l) => JSON.parse(l) as Line);
    expect(taskLines.every((e) => e.specversion === '1.0' && e.correlationid === taskId)).toBe(true);
    expect(taskLines.map((e) => e.id)).toEqual(mine().map((e) => e.id));
    expect(taskLines.map((e) => e.sequence)).toEqual(mine().map((e) => e.sequence));
  }, 300_000);
});
