// Test helper: a fresh, migrated PostgreSQL schema per test file, so files run in parallel on one database.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { createDatabase, type Database } from './client.js';
import { applyMigrations, quoteSchema } from './migrate.js';

export const defaultTestDatabaseUrl = 'postgresql://postgres:postgres@127.0.0.1:5432/test';

/** A migrated schema of its own, with its database handles (Prisma, and the pool under it for raw transactions). */
export interface TestSchema extends Database {
  databaseUrl: string;
  schema: string;
  /** Disconnects the client and drops the schema with everything in it. */
  drop(): Promise<void>;
}

export async function createTestSchema(prefix = 'test'): Promise<TestSchema> {
  const databaseUrl = process.env['TEST_DATABASE_URL'] ?? defaultTestDatabaseUrl;
  // Lowercase identifier, short enough for PostgreSQL's 63-byte limit.
  const schema = `${prefix.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 40)}_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  await applyMigrations({ databaseUrl, schema });
  const db = createDatabase({ databaseUrl, schema, poolSize: 4 });
  const { prisma } = db;
  return {
    ...db,
    databaseUrl,
    schema,
    drop: async () => {
      await prisma.$disconnect();
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${quoteSchema(schema)} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}
