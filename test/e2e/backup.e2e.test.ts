// Backup and restore (scripts/db-backup.sh, scripts/db-restore.sh) of a database with runs in flight: a stack runs on
// its own database with tasks completed, a workflow run waiting for an event and runs whose skill step is running.
// A backup taken while the services work restores with the row counts of its snapshot; a backup of the stopped
// database restores identical, table by table and row by row. Then the services start on the restored database (and
// the same NATS streams, as after losing the database server) and finish the runs that were in flight.
import { applyMigrations, createDatabase, type TestSchema } from '@steward/state';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVICES, Stack, submit, until, waitForTask } from './harness.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const SERVER = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres:postgres@127.0.0.1:5432/test';
const urlOf = (database: string): string => {
  const u = new URL(SERVER);
  u.pathname = `/${database}`;
  return u.href;
};
const ADMIN = urlOf('postgres');
const psql = (url: string, sql: string) => run('psql', ['-X', '-q', '-At', '-w', '-v', 'ON_ERROR_STOP=1', url, '-c', sql]);

/** A database of its own (services use its `public` schema, as installed); drop() removes the whole database. */
async function database(name: string, opts: { create: boolean }): Promise<TestSchema> {
  const databaseUrl = urlOf(name);
  if (opts.create) {
    await psql(ADMIN, `CREATE DATABASE "${name}"`);
    await applyMigrations({ databaseUrl });
  }
  const db = createDatabase({ databaseUrl, schema: 'public', poolSize: 4 });
  const { prisma } = db;
  return {
    ...db,
    databaseUrl,
    schema: 'public',
    drop: async () => {
      await prisma.$disconnect();
      await psql(ADMIN, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}

async function script(name: 'db-backup.sh' | 'db-restore.sh', args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  try {
    const r = await run('bash', [join(ROOT, 'scripts', name), ...args], { env: { ...process.env, ...env }, cwd: ROOT });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

/** Every table of the `public` schema, each as its rows (JSON, sorted), and every sequence's last value. */
async function contents(db: TestSchema): Promise<Record<string, string>> {
  const tables = await db.prisma.$queryRawUnsafe<{ name: string }[]>(`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`);
  const out: Record<string, string> = {};
  for (const { name } of tables) {
    const [row] = await db.prisma.$queryRawUnsafe<{ rows: string }[]>(`SELECT COALESCE(string_agg(to_jsonb(t)::text, E'\\n' ORDER BY to_jsonb(t)::text), '') AS rows FROM public."${name}" t`);
    out[name] = row!.rows;
  }
  const sequences = await db.prisma.$queryRawUnsafe<{ name: string; last: string | null }[]>(`SELECT sequencename AS name, last_value::text AS last FROM pg_sequences WHERE schemaname = 'public'`);
  for (const s of sequences) out[`sequence ${s.name}`] = s.last ?? 'null';
  return out;
}

/** Steps of the runs in flight, as `workflow/step: status`. */
async function inFlight(db: TestSchema): Promise<string[]> {
  const rows = await db.prisma.$queryRawUnsafe<{ line: string }[]>(
    `SELECT r.workflow_name || '/' || s.step_path || ': ' || s.status AS line FROM workflow_runs r JOIN step_runs s ON s.run_id = r.id
     WHERE r.status = 'running' AND s.status IN ('running', 'waiting') ORDER BY 1`,
  );
  return rows.map((r) => r.line);
}

/** A skill step still running when the services stop; its worker drains, and its result waits on the stream. */
const SLOW_WORKFLOW = `
name: e2e.slow
version: 1
steps:
  - { id: first, skill: echo, with: { n: 1 } }
  - { id: slow, skill: util.sleep, with: { ms: 8000 }, timeout: 10s }
  - { id: last, skill: echo, with: { slept: '\${{ steps.slow.output.ms }}' } }
`;

const suffix = randomBytes(4).toString('hex');
let dir: string;
let source: TestSchema;
let stack: Stack | undefined;
const cleanup: (() => Promise<void>)[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'e2e-backup-'));
  source = await database(`steward_bk_src_${suffix}`, { create: true });
  stack = await Stack.start({ database: source });
}, 420_000);
afterAll(async () => {
  if (stack) await stack.stop(); // also drops the source database
  else await source?.drop();
  for (const c of cleanup) await c().catch(() => undefined);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('backup and restore of PostgreSQL with runs in flight', () => {
  const tasks: { waiting?: string; slow: string[]; done: string[] } = { slow: [], done: [] };

  it('a backup taken while the services work restores with the row counts of its snapshot, runs in flight included', async () => {
    const s = stack!;
    const reg = await s.gateway('/v1/workflows', { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: SLOW_WORKFLOW });
    expect(reg.status).toBe(201);
    for (let i = 0; i < 3; i++) tasks.done.push((await submit(s, { skill: 'echo', input: { i } })).body.taskId as string);
    tasks.done.push((await submit(s, { workflow: 'demo.shout', input: { greeting: 'before the backup' } })).body.taskId as string);
    for (const id of tasks.done) expect((await waitForTask(s, id)).task.status).toBe('completed');
    tasks.waiting = (await submit(s, { workflow: 'example.wait-for-event', input: { ref: `bk-${suffix}` } })).body.taskId as string;
    for (let i = 0; i < 2; i++) tasks.slow.push((await submit(s, { workflow: 'e2e.slow', input: {} })).body.taskId as string);
    await until('a waiting and two running steps', async () => {
      const steps = await inFlight(source);
      return steps.filter((l) => l === 'e2e.slow/slow: running').length === 2 && steps.includes('example.wait-for-event/build: waiting') ? steps : undefined;
    });

    const file = join(dir, 'live.dump');
    const backup = await script('db-backup.sh', ['-o', file], { DATABASE_URL: source.databaseUrl });
    expect(backup, backup.out).toMatchObject({ code: 0 });
    expect(backup.out).not.toContain(':postgres@'); // the password is not printed
    // The services stop (drained) with the runs still in flight in the database.
    for (const svc of SERVICES) expect(await s.kill(svc, 'SIGTERM')).toBe(0);
    const manifest = JSON.parse(await readFile(`${file}.manifest.json`, 'utf8')) as { tables: Record<string, number>; migrations: string[]; sha256: string };
    expect(manifest.tables['public.workflow_runs']).toBeGreaterThanOrEqual(4);
    expect(manifest.migrations.length).toBeGreaterThan(0);
    expect((await readFile(`${file}.sha256`, 'utf8')).split(' ')[0]).toBe(manifest.sha256);

    const restored = await database(`steward_bk_live_${suffix}`, { create: false });
    cleanup.push(() => restored.drop());
    const restore = await script('db-restore.sh', [file, restored.databaseUrl]);
    expect(restore, restore.out).toMatchObject({ code: 0 });
    expect(restore.out).toContain('as in the manifest');
    // The snapshot held the runs in flight.
    const steps = await inFlight(restored);
    expect(steps).toContain('example.wait-for-event/build: waiting');
    expect(steps.filter((l) => l === 'e2e.slow/slow: running')).toHaveLength(2);
    for (const [table, n] of Object.entries(manifest.tables)) {
      const [row] = await restored.prisma.$queryRawUnsafe<{ n: bigint }[]>(`SELECT count(*) AS n FROM public."${table.slice('public.'.length)}"`);
      expect(Number(row!.n), table).toBe(n);
    }

    // Clear errors: a non-empty target without --clean, a damaged file, a bad URL.
    const again = await script('db-restore.sh', [file, restored.databaseUrl]);
    expect(again.code).toBe(1);
    expect(again.out).toMatch(/already has \d+ tables; pass --clean/);
    await writeFile(join(dir, 'damaged.dump'), Buffer.concat([await readFile(file), Buffer.from('x')]));
    await writeFile(join(dir, 'damaged.dump.sha256'), await readFile(`${file}.sha256`));
    const damaged = await script('db-restore.sh', [join(dir, 'damaged.dump'), urlOf(`steward_bk_never_${suffix}`)]);
    expect(damaged.code).toBe(1);
    expect(damaged.out).toContain('checksum mismatch');
    const noDb = await script('db-backup.sh', ['-o', join(dir, 'x.dump')], { DATABASE_URL: urlOf(`steward_bk_missing_${suffix}`) });
    expect(noDb.code).toBe(1);
    expect(noDb.out).toContain('db-backup: cannot connect');
  }, 240_000);

  it('restores a backup identical, row by row, and a stack on the restored database finishes the runs that were in flight', async () => {
    const before = await inFlight(source);
    expect(before).toContain('example.wait-for-event/build: waiting');
    expect(before.filter((l) => l === 'e2e.slow/slow: running')).toHaveLength(2);

    const file = join(dir, 'stopped.dump');
    const backup = await script('db-backup.sh', ['-o', file], { DATABASE_URL: source.databaseUrl });
    expect(backup, backup.out).toMatchObject({ code: 0 });
    const restored = await database(`steward_bk_dst_${suffix}`, { create: false });
    const restore = await script('db-restore.sh', [file, restored.databaseUrl]);
    expect(restore, restore.out).toMatchObject({ code: 0 });

    const [a, b] = [await contents(source), await contents(restored)];
    expect(Object.keys(b)).toEqual(Object.keys(a));
    for (const table of Object.keys(a)) expect(b[table], table).toBe(a[table]);
    expect(a.tasks!.split('\n').length).toBe(tasks.done.length + 1 + tasks.slow.length);

    // The services start on the restored database and the same NATS streams: the waiting run takes its event; the
    // running steps take the results their worker published while it drained (the workflow-runner had stopped first),
    // and every run completes.
    const restoredStack = await Stack.start({ database: restored, namespace: stack!.namespace });
    try {
      const event = await restoredStack.gateway('/v1/events', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'build.finished', key: `bk-${suffix}`, data: { ok: true } }),
      });
      expect(event.status).toBe(202);
      const waited = await waitForTask(restoredStack, tasks.waiting!, 60_000);
      expect(waited.task).toMatchObject({ status: 'completed', output: { ref: `bk-${suffix}`, build: { ok: true } } });
      for (const id of tasks.slow) {
        const { task } = await waitForTask(restoredStack, id, 60_000);
        expect(task).toMatchObject({ status: 'completed', output: { slept: 8000 } });
      }
      expect(await inFlight(restored)).toEqual([]);
      // The tasks completed before the backup are still completed, once.
      for (const id of tasks.done) expect((await waitForTask(restoredStack, id)).task.status).toBe('completed');
    } finally {
      await restoredStack.stop(); // drops the restored database and deletes the streams
    }
  }, 600_000);
});
