import { randomUUID } from 'node:crypto';
import { appendFile, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrations, defaultMigrationsDir, readMigrations } from './migrate.js';
import { createTestSchema, defaultTestDatabaseUrl, type TestSchema } from './testing.js';

const databaseUrl = process.env['TEST_DATABASE_URL'] ?? defaultTestDatabaseUrl;
const schemas: string[] = [];
const tmpDirs: string[] = [];
let admin: pg.Client;

function newSchema(): string {
  const schema = `mig_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  schemas.push(schema);
  return schema;
}

// A private copy of the migrations folder, so a test can edit or add files.
async function copyMigrations(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'steward-migrations-'));
  tmpDirs.push(dir);
  await cp(defaultMigrationsDir, dir, { recursive: true });
  return dir;
}

beforeAll(async () => {
  admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
});

afterAll(async () => {
  for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  await admin.end();
  for (const d of tmpDirs) await rm(d, { recursive: true, force: true });
});

describe('applyMigrations', () => {
  it('applies every migration to an empty schema and records it like Prisma', async () => {
    const schema = newSchema();
    const local = await readMigrations();
    expect(local.length).toBeGreaterThanOrEqual(2);

    // The default schema may hold a migrated database already (CI migrates it); it must stay as it is.
    const publicTables = () => admin.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1").then((r) => r.rows.map((x) => x.table_name));
    const publicBefore = await publicTables();
    const { applied } = await applyMigrations({ databaseUrl, schema });
    expect(applied).toEqual(local.map((m) => m.name));

    const tables = await admin.query<{ table_name: string }>('SELECT table_name FROM information_schema.tables WHERE table_schema = $1', [schema]);
    const names = tables.rows.map((r) => r.table_name);
    for (const t of ['_prisma_migrations', 'tenants', 'tasks', 'workflow_runs', 'step_runs', 'decisions', 'outbox', 'inbox']) expect(names).toContain(t);

    const rows = await admin.query<{ id: string; checksum: string; migration_name: string; finished_at: Date | null; rolled_back_at: Date | null; logs: string | null; applied_steps_count: number }>(
      `SELECT * FROM "${schema}"._prisma_migrations ORDER BY migration_name`,
    );
    expect(rows.rows.map((r) => [r.migration_name, r.checksum])).toEqual(local.map((m) => [m.name, m.checksum]));
    for (const r of rows.rows) {
      expect(r.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(r.finished_at).toBeInstanceOf(Date);
      expect(r.rolled_back_at).toBeNull();
      expect(r.logs).toBeNull();
      expect(r.applied_steps_count).toBe(1);
    }
    // Nothing leaked into the default schema.
    expect(await publicTables()).toEqual(publicBefore);

    expect((await applyMigrations({ databaseUrl, schema })).applied).toEqual([]);
  });

  it('refuses to run when an applied migration was edited', async () => {
    const schema = newSchema();
    const dir = await copyMigrations();
    await applyMigrations({ databaseUrl, schema, migrationsDir: dir });
    const [first] = await readMigrations(dir);
    await appendFile(join(dir, first!.name, 'migration.sql'), '\n-- edited\n');
    await expect(applyMigrations({ databaseUrl, schema, migrationsDir: dir })).rejects.toThrow(/was modified after it was applied/);
  });

  it('rolls a failing migration back completely and stops there', async () => {
    const schema = newSchema();
    const dir = await copyMigrations();
    await mkdir(join(dir, '99990101000000_broken'));
    await writeFile(join(dir, '99990101000000_broken', 'migration.sql'), 'CREATE TABLE half_done (id int);\nSELECT no_such_function();\n');
    await mkdir(join(dir, '99990102000000_after'));
    await writeFile(join(dir, '99990102000000_after', 'migration.sql'), 'CREATE TABLE after_broken (id int);\n');

    await expect(applyMigrations({ databaseUrl, schema, migrationsDir: dir })).rejects.toThrow(/99990101000000_broken failed/);
    const left = await admin.query('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name IN ($2, $3)', [schema, 'half_done', 'after_broken']);
    expect(left.rowCount).toBe(0);
    const recorded = await admin.query(`SELECT 1 FROM "${schema}"._prisma_migrations WHERE migration_name LIKE '9999%'`);
    expect(recorded.rowCount).toBe(0);
  });

  it('applies each migration exactly once when two runners race', async () => {
    const schema = newSchema();
    const [a, b] = await Promise.all([applyMigrations({ databaseUrl, schema }), applyMigrations({ databaseUrl, schema })]);
    const local = (await readMigrations()).map((m) => m.name);
    expect([...a.applied, ...b.applied].sort()).toEqual(local);
    const counts = await admin.query<{ migration_name: string; n: number }>(
      `SELECT migration_name, count(*)::int AS n FROM "${schema}"._prisma_migrations GROUP BY migration_name`,
    );
    expect(counts.rows).toHaveLength(local.length);
    for (const r of counts.rows) expect(r.n).toBe(1);
  });
});

describe('client on a per-test schema', () => {
  let db: TestSchema;

  beforeAll(async () => {
    db = await createTestSchema('state_smoke');
  });

  afterAll(async () => {
    await db.drop();
    const gone = await admin.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [db.schema]);
    expect(gone.rowCount).toBe(0);
  });

  it('writes and reads a task', async () => {
    const id = randomUUID();
    await db.prisma.task.create({
      data: { id, tenantId: 't1', kind: 'workflow', workflowName: 'triage', workflowVersion: 1, input: { build: 42 }, idempotencyKey: 'k1' },
    });
    const task = await db.prisma.task.findUniqueOrThrow({ where: { id } });
    expect(task).toMatchObject({ id, status: 'pending', kind: 'workflow', input: { build: 42 }, output: null });
    expect(task.createdAt).toBeInstanceOf(Date);
    const byKey = await db.prisma.task.findUnique({ where: { tenantId_idempotencyKey: { tenantId: 't1', idempotencyKey: 'k1' } } });
    expect(byKey?.id).toBe(id);
    // The row is in the test's schema, not in public.
    const raw = await admin.query(`SELECT status FROM "${db.schema}".tasks WHERE id = $1`, [id]);
    expect(raw.rows).toEqual([{ status: 'pending' }]);
  });

  it('runs interactive transactions and raw queries inside the schema', async () => {
    const sessionId = randomUUID();
    await db.prisma.$transaction(async (tx) => {
      await tx.session.create({ data: { id: sessionId, tenantId: 't1', title: 'week' } });
      await tx.contextEntry.create({ data: { id: randomUUID(), sessionId, key: 'repo', value: 'steward', type: 'string' } });
    });
    const rows = await db.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM context_entries`;
    expect(rows).toEqual([{ n: 1 }]);
  });

  it('stores outbox rows in order with bigint ids, and announces nothing (no trigger on outbox)', async () => {
    const ids = [randomUUID(), randomUUID()];
    await db.prisma.outbox.createMany({ data: ids.map((eventId) => ({ eventId, subject: 'steward.test', payload: '{}' })) });
    const rows = await db.prisma.outbox.findMany({ orderBy: { id: 'asc' } });
    expect(rows.map((r) => r.eventId)).toEqual(ids);
    expect(typeof rows[0]?.id).toBe('bigint');
    const triggers = await db.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace s ON s.oid = c.relnamespace WHERE c.relname = 'outbox' AND s.nspname = ${db.schema} AND NOT t.tgisinternal`;
    expect(triggers).toEqual([{ n: 0 }]);
  });
});
