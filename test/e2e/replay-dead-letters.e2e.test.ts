// scripts/replay-dead-letters.ts as an operator runs it, against real NATS JetStream: a consumer dead-letters events
// while its handler is broken; once fixed, the replay hands them back to it exactly once and deletes the dead letters;
// a malformed message is listed but not replayed.
import { PermanentError, createTestBus, startConsumer, type RunningConsumer } from '@steward/bus';
import { makeEvent } from '@steward/contracts';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from './harness.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');

let bus: Awaited<ReturnType<typeof createTestBus>>;
let consumer: RunningConsumer | undefined;

async function replay(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const r = await run(process.execPath, ['--conditions=development', '--import', 'tsx', join(ROOT, 'scripts', 'replay-dead-letters.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, NATS_NAMESPACE: bus.namespace },
    });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

beforeAll(async () => {
  bus = await createTestBus('replay-test');
});
afterAll(async () => {
  await consumer?.stop();
  await bus?.destroy();
});

describe('scripts/replay-dead-letters.ts', () => {
  it('lists dead letters, replays the ones that can succeed exactly once, and leaves malformed ones', async () => {
    let broken = true;
    const handled: string[] = [];
    consumer = await startConsumer(bus, {
      durable: 'replay-test',
      stream: 'events',
      accepts: ['task.started.v1'],
      async handle(e) {
        if (broken) throw new PermanentError('no-such-task', `task ${e.envelope.data.taskId} is unknown`);
        handled.push(e.envelope.data.taskId);
      },
    });
    const ctx = { source: 'steward/test', tenantId: 't1', correlationId: 'c1' };
    const a = makeEvent('task.started.v1', { taskId: 'a', startedAt: new Date().toISOString() }, ctx);
    await bus.publish(a);
    await bus.publish(makeEvent('task.started.v1', { taskId: 'b', startedAt: new Date().toISOString() }, ctx));
    await bus.publishRaw({ subject: a.subject, payload: '{"not": json', msgId: 'poison' });
    const dlq = bus.streamName('deadLetters');
    await until('three dead letters', async () => ((await bus.jsm.streams.info(dlq)).state.messages === 3 ? true : undefined));

    const listed = await replay();
    expect(listed.code).toBe(0);
    expect(listed.out).toContain('3 dead letter(s)');
    expect(listed.out).toMatch(/replay-test permanent:no-such-task steward\.evt\.task\.started\.v1 \(delivered 1×\): task a is unknown/);
    expect(listed.out).toContain('not-json');
    const json = await replay('--reason', 'permanent', '--json');
    expect(json.out.trim().split('\n').map((l) => (JSON.parse(l) as { reason: string }).reason)).toEqual(['permanent:no-such-task', 'permanent:no-such-task']);
    expect((await bus.jsm.streams.info(dlq)).state.messages).toBe(3); // listing changes nothing
    expect(handled).toEqual([]);

    broken = false; // the fix is deployed
    const executed = await replay('--execute');
    expect(executed, executed.out).toMatchObject({ code: 0 });
    expect(executed.out).toContain('2 replayed, 1 skipped, 0 failed');
    await until('the replayed events handled', async () => (handled.length === 2 ? true : undefined));
    expect(handled.sort()).toEqual(['a', 'b']);
    expect((await bus.jsm.streams.info(dlq)).state.messages).toBe(1); // the malformed one stays

    const again = await replay('--execute');
    expect(again.out).toContain('0 replayed, 1 skipped, 0 failed');
    await new Promise((r) => setTimeout(r, 500));
    expect(handled).toHaveLength(2);

    const bad = await replay('--keep');
    expect(bad.code).toBe(2);
    expect(bad.out).toContain('--keep and --force go with --execute');
  }, 120_000);
});
