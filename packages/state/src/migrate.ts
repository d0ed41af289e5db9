// Offline migration runner: applies prisma/migrations/*/migration.sql the way `prisma migrate deploy` does,
// so a connected machine running plain Prisma sees the same history in `_prisma_migrations`.
import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export interface ApplyMigrationsOptions {
  databaseUrl: string;
  /** PostgreSQL schema to migrate (created if missing); defaults to the connection's search_path. */
  schema?: string;
  /** Folder holding `<timestamp>_<name>/migration.sql`; defaults to this package's prisma/migrations. */
  migrationsDir?: string;
}

export interface ApplyMigrationsResult {
  applied: string[];
}

// src/ and dist/ both sit one level below the package root.
export const defaultMigrationsDir = fileURLToPath(new URL('../prisma/migrations', import.meta.url));

// The key `prisma migrate deploy` locks, so this runner and Prisma never migrate the same database at once.
const PRISMA_ADVISORY_LOCK_KEY = 72707369;

// Same table definition the Prisma schema engine creates on PostgreSQL.
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

interface LocalMigration {
  name: string;
  sql: string;
  checksum: string;
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
}

/** Quotes a schema name after checking it is a plain identifier (it ends up in DDL and startup options). */
export function quoteSchema(schema: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid PostgreSQL schema name: ${JSON.stringify(schema)}`);
  return `"${schema}"`;
}

export async function readMigrations(migrationsDir: string = defaultMigrationsDir): Promise<LocalMigration[]> {
  const entries = await readdir(migrationsDir, { withFileTypes: true });
  // Prisma orders migrations by folder name (timestamp prefix).
  const names = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort((a, b) => a.localeCompare(b));
  return Promise.all(
    names.map(async (name) => {
      const bytes = await readFile(join(migrationsDir, name, 'migration.sql'));
      // Prisma's checksum: sha256 hex of the file's bytes.
      return { name, sql: bytes.toString('utf8'), checksum: createHash('sha256').update(bytes).digest('hex') };
    }),
  );
}

export async function applyMigrations(options: ApplyMigrationsOptions): Promise<ApplyMigrationsResult> {
  const migrations = await readMigrations(options.migrationsDir);
  const client = new pg.Client({ connectionString: options.databaseUrl });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK_KEY]);
    try {
      if (options.schema !== undefined) {
        const quoted = quoteSchema(options.schema);
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
        // Unqualified DDL in migration.sql lands in this schema, like Prisma's `?schema=` does.
        await client.query(`SET search_path TO ${quoted}`);
      }
      await client.query(CREATE_MIGRATIONS_TABLE);
      return { applied: await applyPending(client, migrations) };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_ADVISORY_LOCK_KEY]);
    }
  } finally {
    await client.end();
  }
}

async function applyPending(client: pg.Client, migrations: LocalMigration[]): Promise<string[]> {
  const { rows } = await client.query<AppliedRow>(
    'SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL',
  );
  const applied = new Map(rows.map((r) => [r.migration_name, r]));
  for (const m of migrations) {
    const row = applied.get(m.name);
    if (row === undefined) continue;
    // A half-applied migration (written by Prisma itself) needs `prisma migrate resolve`, as with migrate deploy.
    if (row.finished_at === null) throw new Error(`migration ${m.name} failed earlier and was not resolved; fix the database, then mark it with \`prisma migrate resolve\``);
    if (row.checksum !== m.checksum) {
      throw new Error(`migration ${m.name} was modified after it was applied (database checksum ${row.checksum}, file ${m.checksum}); add a new migration instead of editing an applied one`);
    }
  }
  const done: string[] = [];
  for (const m of migrations) {
    if (applied.has(m.name)) continue;
    // One transaction per migration: a failure leaves no trace and the next run retries it.
    await client.query('BEGIN');
    try {
      const id = randomUUID();
      await client.query(
        'INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES ($1, $2, $3, clock_timestamp(), 0)',
        [id, m.checksum, m.name],
      );
      // Simple-query protocol: the whole file (several statements, $$ bodies) in one round trip.
      await client.query(m.sql);
      await client.query('UPDATE "_prisma_migrations" SET finished_at = clock_timestamp(), applied_steps_count = 1 WHERE id = $1', [id]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw new Error(`migration ${m.name} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    done.push(m.name);
  }
  return done;
}
