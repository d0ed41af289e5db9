// The program in-process with a fake gateway (fetch): parsing, exit codes, and how errors are shown.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { Ctx } from './context.js';
import { buildProgram, run } from './program.js';

interface Call {
  method: string;
  url: string;
  headers: Headers;
  body?: string;
}

function fakeIo(env: Record<string, string>, handler: (c: Call) => Response = () => new Response('{}')) {
  let stdout = '';
  let stderr = '';
  const calls: Call[] = [];
  const fetchImpl = (async (input: URL | string, init?: RequestInit) => {
    const call: Call = { method: init?.method ?? 'GET', url: String(input), headers: new Headers(init?.headers), ...(typeof init?.body === 'string' ? { body: init.body } : {}) };
    calls.push(call);
    return handler(call);
  }) as typeof fetch;
  const io = {
    stdout: { write: (s: string) => ((stdout += s), true) },
    stderr: { write: (s: string) => ((stderr += s), true) },
    stdin: new PassThrough(),
    env,
    fetch: fetchImpl,
  };
  return { io, calls, out: () => stdout, err: () => stderr };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Response => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const ENV = { STEWARD_URL: 'http://gw.test:8080', STEWARD_API_KEY: 'stw_abcdefghijkl_secret' };

describe('steward (in-process)', () => {
  it('prints help and the version with exit 0, and refuses unknown commands and options with exit 2', async () => {
    const h = fakeIo(ENV);
    expect(await run(['--help'], h.io)).toBe(0);
    expect(h.out()).toContain('Usage: steward');
    expect(await run(['--version'], h.io)).toBe(0);
    const bad = fakeIo(ENV);
    expect(await run(['launch'], bad.io)).toBe(2);
    expect(bad.err()).toContain("unknown command 'launch'");
    expect(await run(['watch'], bad.io)).toBe(2);
    expect(await run(['submit', 'echo', '--version', 'x'], bad.io)).toBe(2);
  });

  it('says how to log in when nothing is configured', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'steward-cli-'));
    const h = fakeIo({ XDG_CONFIG_HOME: dir });
    expect(await run(['skills'], h.io)).toBe(2);
    expect(h.err()).toContain('error: no gateway URL configured');
    expect(h.err()).toContain('steward login');
  });

  it('submits with the bearer key, the input and the idempotency key, and prints the task id as JSON', async () => {
    // Not a skill (422 unknown_skill), so it is submitted again as a workflow.
    const h = fakeIo(ENV, (c) => (c.body?.includes('"skill"') ? json(422, { error: { code: 'unknown_skill', message: 'no skill named demo.shout' } }) : json(202, { taskId: 't-1' }, { 'idempotent-replayed': 'true' })));
    expect(await run(['submit', 'demo.shout', '-i', 'greeting=hi', '-i', 'to.name=world', '--idempotency-key', 'k1', '--json'], h.io)).toBe(0);
    expect(h.calls.map((c) => JSON.parse(c.body ?? '{}') as Record<string, unknown>)).toEqual([
      { skill: 'demo.shout', input: { greeting: 'hi', to: { name: 'world' } } },
      { workflow: 'demo.shout', input: { greeting: 'hi', to: { name: 'world' } } },
    ]);
    const post = h.calls.at(-1)!;
    expect(post).toMatchObject({ method: 'POST', url: 'http://gw.test:8080/v1/tasks' });
    expect(post.headers.get('authorization')).toBe('Bearer stw_abcdefghijkl_secret');
    expect(post.headers.get('idempotency-key')).toBe('k1');
    expect(JSON.parse(post.body!)).toEqual({ workflow: 'demo.shout', input: { greeting: 'hi', to: { name: 'world' } } });
    expect(JSON.parse(h.out())).toEqual({ taskId: 't-1', kind: 'workflow', target: 'demo.shout', replayed: true });
  });

  it("shows the API's error code, message and issues, and exits 1; as JSON on stderr with --json", async () => {
    const refusal = () => json(400, { error: { code: 'invalid_request', message: 'request body is invalid', issues: [{ code: 'custom', path: ['skill'], message: 'give exactly one of "skill" or "workflow"' }] } });
    const h = fakeIo(ENV, refusal);
    expect(await run(['submit', 'echo', '--skill'], h.io)).toBe(1);
    expect(h.err()).toBe('error: request body is invalid\n  HTTP 400 invalid_request (POST /v1/tasks)\n  - skill: give exactly one of "skill" or "workflow"\n');
    const j = fakeIo(ENV, refusal);
    expect(await run(['submit', 'echo', '--skill', '--json'], j.io)).toBe(1);
    expect(j.out()).toBe('');
    expect(JSON.parse(j.err())).toEqual({ error: { status: 400, code: 'invalid_request', message: 'request body is invalid', issues: [{ code: 'custom', path: ['skill'], message: 'give exactly one of "skill" or "workflow"' }], request: 'POST /v1/tasks' } });
  });

  it('reports an unreachable gateway (exit 3) and a response it does not understand', async () => {
    const down = fakeIo(ENV, () => {
      throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    });
    expect(await run(['workflows'], down.io)).toBe(3);
    expect(down.err()).toContain('cannot reach the gateway at http://gw.test:8080 (ECONNREFUSED)');
    const odd = fakeIo(ENV, () => json(200, { flows: [] }));
    expect(await run(['workflows', 'list'], odd.io)).toBe(3);
    expect(odd.err()).toContain('unexpected response from the gateway (workflows:');
  });

  it('retries a 429 after its Retry-After', async () => {
    let n = 0;
    const h = fakeIo(ENV, () => (n++ === 0 ? json(429, { error: { code: 'rate_limited', message: 'slow down' } }, { 'retry-after': '0' }) : json(200, { skills: [] })));
    expect(await run(['skills', 'list', '--json'], h.io)).toBe(0);
    expect(JSON.parse(h.out())).toEqual({ skills: [] });
    expect(n).toBe(2);
  });
});

describe('the command tree', () => {
  it('gives every command that runs (every leaf) a --json option', () => {
    const leaves = (c: Command, path: string[] = []): { name: string; command: Command }[] =>
      c.commands.length === 0 ? [{ name: path.join(' '), command: c }] : c.commands.flatMap((sub) => leaves(sub, [...path, sub.name()]));
    const all = leaves(buildProgram(new Ctx(fakeIo(ENV).io)));
    expect(all.map((l) => l.name)).toEqual(expect.arrayContaining(['login', 'logout', 'submit', 'watch', 'inbox', 'answer', 'events tail', 'events replay', 'workflows show', 'tasks cancel']));
    expect(all.length).toBeGreaterThanOrEqual(16);
    for (const { name, command } of all) expect(command.options.map((o) => o.long), name).toContain('--json');
  });
});
