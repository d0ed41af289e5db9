// Checks against Prisma's own schema engine (pinned WASM build): migrations match schema.prisma, and the history our
// runner writes is what `prisma migrate status/deploy` expect. Also guards the internal API new-migration relies on.
import { randomUUID } from 'node:crypto';
import { appendFile, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { diffMigrationsToSchema, EMPTY_MIGRATION, migrationsDir, prismaMigrationStatus, schemaPath } from '../scripts/schema-engine.js';
import { applyMigrations, readMigrations } from '../src/migrate.js';
import { defaultTestDatabaseUrl } from '../src/testing.js';

const databaseUrl = process.env['TEST_DATABASE_URL'] ?? defaultTestDatabaseUrl;
const cleanup: (() => Promise<void>)[] = [];

afterAll(async () => {
  for (const c of cleanup) await c();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'steward-prisma-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('prisma/migrations', () => {
  it('matches prisma/schema.prisma (run `pnpm --filter @steward/state new-migration <name>` if not)', async () => {
    expect(await diffMigrationsToSchema({ databaseUrl })).toBe(EMPTY_MIGRATION);
  });

  it('produces the SQL for a schema change', async () => {
    const schemaFile = join(await tempDir(), 'schema.prisma');
    await writeFile(schemaFile, `${await readFile(schemaPath, 'utf8')}\nmodel DriftProbe {\n  id String @id\n\n  @@map("drift_probe")\n}\n`);
    const sql = await diffMigrationsToSchema({ databaseUrl, schemaFile });
    expect(sql).toContain('CREATE TABLE "drift_probe"');
    expect(sql).not.toContain('"tasks"');
  });
});

describe('history written by applyMigrations', () => {
  it('is up to date for Prisma, which also spots an edited migration by checksum', async () => {
    const schema = `compat_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    cleanup.push(async () => {
      const c = new pg.Client({ connectionString: databaseUrl });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await c.end();
    });
    const folder = await tempDir();
    await cp(migrationsDir, folder, { recursive: true });

    const before = await prismaMigrationStatus({ databaseUrl, schema, migrationsFolder: folder });
    expect(before.hasMigrationsTable).toBe(false);

    await applyMigrations({ databaseUrl, schema, migrationsDir: folder });
    const after = await prismaMigrationStatus({ databaseUrl, schema, migrationsFolder: folder });
    expect(after).toMatchObject({ hasMigrationsTable: true, history: null, editedMigrationNames: [], failedMigrationNames: [] });

    const [first] = (await readMigrations(folder)).map((m) => m.name);
    await appendFile(join(folder, first!, 'migration.sql'), '\n-- edited\n');
    const edited = await prismaMigrationStatus({ databaseUrl, schema, migrationsFolder: folder });
    expect(edited.editedMigrationNames).toEqual([first]);
  });
});
