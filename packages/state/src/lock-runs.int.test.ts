// steward_lock_runs (a migration's PL/pgSQL function): the workflow-runner's one round trip to lock runs and read
// their steps. What matters is that steps are read after the locks are held, so a change committed by the lock's
// previous holder is never missed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSchema, type TestSchema } from './testing.js';

interface Locked {
  runs: { id: string; status: string; started_at: string | null; version: number }[];
  steps: { id: string; run_id: string; status: string; attempt: number; output: unknown }[];
}

let db: TestSchema;
beforeAll(async () => {
  db = await createTestSchema('lock_runs');
  const { prisma } = db;
  await prisma.workflowDefinition.create({ data: { id: 'def', name: 'w', version: 1, definition: {}, hash: 'h' } });
  for (const id of ['run-a', 'run-b']) {
    await prisma.task.create({ data: { id: `task-${id}`, tenantId: 't', kind: 'workflow', input: {} } });
    await prisma.workflowRun.create({ data: { id, taskId: `task-${id}`, tenantId: 't', definitionId: 'def', workflowName: 'w', workflowVersion: 1, input: {}, startedAt: new Date('2026-12-03T09:00:00.123Z') } });
    await prisma.stepRun.create({ data: { id: `${id}-s1`, runId: id, stepPath: 's1' } });
    await prisma.stepRun.create({ data: { id: `${id}-s2`, runId: id, stepPath: 's2' } });
  }
});
afterAll(async () => db.drop());

const lockRuns = (tx: Pick<TestSchema['prisma'], '$queryRaw'>, runIds: string[], stepRunIds: string[], loaded: string[] = []) =>
  tx.$queryRaw<{ locked: Locked }[]>`SELECT steward_lock_runs(${runIds}::text[], ${stepRunIds}::text[], ${loaded}::text[]) AS locked`.then((r) => r[0]!.locked);

const version = async (id: string) => (await db.prisma.workflowRun.findUniqueOrThrow({ where: { id } })).version;
// As the runner sends it: executed, its (void) result unread.
const claim = (tx: Pick<TestSchema['prisma'], '$executeRaw'>, ids: string[], versions: number[]) => tx.$executeRaw`SELECT steward_claim_runs(${ids}::text[], ${versions}::int[])`;
const STALE = /40001|changed since this runner cached them/;

/**
 * Another transaction locks the run (FOR UPDATE) and holds it: `release()` lets it run `change` and commit, and
 * `done` settles with that commit.
 */
async function holdLock(runId: string, change: (tx: Pick<TestSchema['prisma'], '$executeRaw'>) => Promise<unknown>): Promise<{ release: () => void; done: Promise<unknown> }> {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let locked!: () => void;
  const isLocked = new Promise<void>((r) => (locked = r));
  const done = db.prisma.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT id FROM workflow_runs WHERE id = ${runId} FOR UPDATE`;
    locked();
    await held;
    await change(tx);
  });
  await isLocked;
  return { release, done };
}

/** Resolves once a statement whose text holds `marker` waits for a lock. */
const blockedOnLock = (marker: string) =>
  expect
    .poll(
      () =>
        db.prisma.$queryRaw<{ n: number }[]>`
          SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE ${`%${marker}%`} AND pid <> pg_backend_pid()`.then((r) => r[0]!.n),
      { timeout: 10_000 },
    )
    .toBe(1);

describe('steward_lock_runs', () => {
  it('returns the runs named and those owning the step runs named, with their steps, except steps of runs already loaded', async () => {
    const byRun = await db.prisma.$transaction((tx) => lockRuns(tx, ['run-a'], []));
    expect(byRun.runs.map((r) => r.id)).toEqual(['run-a']);
    expect(new Date(byRun.runs[0]!.started_at!).toISOString()).toBe('2026-12-03T09:00:00.123Z');
    expect(byRun.steps.map((s) => s.id).sort()).toEqual(['run-a-s1', 'run-a-s2']);
    const byStep = await db.prisma.$transaction((tx) => lockRuns(tx, [], ['run-b-s2', 'run-a-s1'], ['run-a']));
    expect(byStep.runs.map((r) => r.id)).toEqual(['run-a', 'run-b']);
    expect(byStep.steps.map((s) => s.id).sort()).toEqual(['run-b-s1', 'run-b-s2']);
    expect(await db.prisma.$transaction((tx) => lockRuns(tx, ['nope'], ['nope']))).toEqual({ runs: [], steps: [] });
  });

  it('waits for a run held by another transaction and then sees what that transaction committed', async () => {
    const holder = await holdLock('run-a', async (tx) => {
      await tx.$executeRaw`UPDATE step_runs SET status = 'completed', attempt = 2, output = '{"done": true}' WHERE id = 'run-a-s1'`;
      await tx.$executeRaw`UPDATE workflow_runs SET status = 'running' WHERE id = 'run-a'`;
    });
    let answered = false;
    const waiter = db.prisma.$transaction((tx) =>
      tx.$queryRaw<{ locked: Locked }[]>`SELECT /* lock-runs test waiter */ steward_lock_runs('{}'::text[], ${['run-a-s1']}::text[], '{}'::text[]) AS locked`.then((r) => r[0]!.locked),
    ).then((r) => {
      answered = true;
      return r;
    });
    // Released only once the waiter's statement is blocked on the run's lock (so its snapshot predates the commit).
    await blockedOnLock('lock-runs test waiter');
    expect(answered).toBe(false);
    holder.release();
    await holder.done;
    const seen = await waiter;
    expect(seen.runs[0]!.status).toBe('running');
    const s1 = seen.steps.find((s) => s.id === 'run-a-s1')!;
    expect(s1).toMatchObject({ status: 'completed', attempt: 2, output: { done: true } });
  });
});

// steward_claim_runs: how a workflow-runner acts on its cached copy of runs. It locks them, then checks their versions
// with a snapshot taken after the locks, and fails with serialization_failure (40001) when any moved on.
describe('steward_claim_runs', () => {
  it('passes while every run has the version given, and fails with 40001 when one does not or is gone', async () => {
    const [a, b] = [await version('run-a'), await version('run-b')];
    await db.prisma.$transaction((tx) => claim(tx, ['run-b', 'run-a'], [b, a]));
    await expect(db.prisma.$transaction((tx) => claim(tx, ['run-a', 'run-b'], [a, b + 1]))).rejects.toThrow(STALE);
    await expect(db.prisma.$transaction((tx) => claim(tx, ['run-a', 'gone'], [a, 0]))).rejects.toThrow(STALE);
    // steward_lock_runs hands out the version a later claim checks (raised by the lock itself, see below).
    const locked = await db.prisma.$transaction((tx) => lockRuns(tx, ['run-a'], []));
    expect(locked.runs).toEqual([expect.objectContaining({ id: 'run-a', version: a + 1 })]);
    await db.prisma.$transaction((tx) => claim(tx, ['run-a'], [a + 1]));
  });

  it('waits for a run held by another transaction and fails when that transaction raised its version', async () => {
    const v = await version('run-b');
    const holder = await holdLock('run-b', (tx) => tx.$executeRaw`UPDATE workflow_runs SET version = version + 1 WHERE id = 'run-b'`);
    const waiter = db.prisma.$transaction((tx) => tx.$executeRaw`SELECT /* claim test waiter */ steward_claim_runs(${['run-b']}::text[], ${[v]}::int[])`).then(
      () => 'claimed',
      (err: unknown) => String(err),
    );
    // Released only once the claim is blocked on the run's lock (so its statement's snapshot predates the commit).
    await blockedOnLock('claim test waiter');
    holder.release();
    await holder.done;
    expect(await waiter).toMatch(STALE);
    await db.prisma.$transaction((tx) => claim(tx, ['run-b'], [v + 1]));
  });
});

// A workflow-runner of an earlier release knows nothing of versions, but it locks every run it changes with
// steward_lock_runs: the lock raises the version, so a cached copy elsewhere is stale before that runner writes.
describe('run versions', () => {
  it('are raised by steward_lock_runs, which returns the raised version, so a claim of the copy from before fails', async () => {
    const before = await version('run-a');
    const locked = await db.prisma.$transaction(async (tx) => {
      const got = await lockRuns(tx, ['run-a'], []);
      // What an earlier release did next: change steps, leave the version alone.
      await tx.$executeRaw`UPDATE step_runs SET attempt = attempt + 1 WHERE run_id = 'run-a'`;
      return got;
    });
    expect(locked.runs).toEqual([expect.objectContaining({ id: 'run-a', version: before + 1 })]);
    expect(await version('run-a')).toBe(before + 1);
    await expect(db.prisma.$transaction((tx) => claim(tx, ['run-a'], [before]))).rejects.toThrow(STALE);
    // A lock rolled back raises nothing.
    await expect(
      db.prisma.$transaction(async (tx) => {
        await lockRuns(tx, ['run-a'], []);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await version('run-a')).toBe(before + 1);
  });
});
