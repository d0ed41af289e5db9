// Prisma 7 client over node-postgres (no native engine): one pool per client, optionally bound to one schema.
import { PrismaPg } from '@prisma/adapter-pg';
import { createHash } from 'node:crypto';
import pg from 'pg';
import { PrismaClient as GeneratedPrismaClient, type Prisma } from './generated/prisma/client.js';
import { quoteSchema } from './migrate.js';
import type { StatementNamer } from './sql-client.js';

export type PrismaClient = GeneratedPrismaClient;
/** The client handed to `prisma.$transaction(async (tx) => …)`. */
export type TransactionClient = Prisma.TransactionClient;

export interface CreatePrismaClientOptions {
  databaseUrl: string;
  /** PostgreSQL schema holding the tables (one per test file, or per deployment); defaults to the search_path. */
  schema?: string;
  /** Pool max connections (default 10). */
  poolSize?: number;
  /**
   * Prepare the SQL that repeats as named statements (default true; see `statementNames`). Turn off behind a pooler
   * in transaction mode (PgBouncer < 1.21), which cannot keep a connection's prepared statements.
   */
  preparedStatements?: boolean;
}

/**
 * Names for node-postgres' prepared-statement cache: a statement seen `after` times gets a name (a hash of its text),
 * so each connection parses it once and PostgreSQL can keep its plan, instead of parsing and planning it on every
 * execution (the hot transactions' statements cost 0.5–1 ms each in parse and bind alone). At most `max` texts are
 * ever named — each connection keeps what it prepared for its life — so SQL whose text varies (IN lists of varying
 * length) cannot fill the server's memory: what is not named runs unnamed, as before. An empty name is unnamed.
 */
export function statementNames(opts: { after?: number; max?: number } = {}): StatementNamer {
  const { after = 2, max = 256 } = opts;
  const named = new Map<string, string>();
  const seen = new Map<string, number>();
  return ({ sql }) => {
    const name = named.get(sql);
    if (name !== undefined) return name;
    if (named.size >= max) return '';
    const count = (seen.get(sql) ?? 0) + 1;
    if (count < after) {
      if (seen.size >= 10_000) seen.clear(); // one-off texts: forget them rather than grow
      seen.set(sql, count);
      return '';
    }
    seen.delete(sql);
    const fresh = `steward_${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`;
    named.set(sql, fresh);
    return fresh;
  };
}

/** A service's database: one node-postgres pool, used by Prisma and by raw transactions (`pgTransaction`). */
export interface Database {
  prisma: PrismaClient;
  pool: pg.Pool;
  /** The statement names of this pool's connections (shared by Prisma and raw SQL, so one text gets one name). */
  statementName: StatementNamer;
}

export function createDatabase(options: CreatePrismaClientOptions): Database {
  const { databaseUrl, schema, poolSize = 10, preparedStatements = true } = options;
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: poolSize,
    // search_path covers $queryRaw and enum casts; the adapter's `schema` qualifies the generated queries.
    ...(schema === undefined ? {} : { options: `-c search_path=${quoteSchema(schema)}` }),
  });
  const statementName = preparedStatements ? statementNames() : () => '';
  const adapter = new PrismaPg(pool, {
    ...(schema === undefined ? {} : { schema }),
    ...(preparedStatements ? { statementNameGenerator: statementName } : {}),
    disposeExternalPool: true, // $disconnect ends the pool
  });
  return { prisma: new GeneratedPrismaClient({ adapter }), pool, statementName };
}

export function createPrismaClient(options: CreatePrismaClientOptions): PrismaClient {
  return createDatabase(options).prisma;
}
