// Prisma 7 client over node-postgres (no native engine): one pool per client, optionally bound to one schema.
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient as GeneratedPrismaClient, type Prisma } from './generated/prisma/client.js';
import { quoteSchema } from './migrate.js';

export type PrismaClient = GeneratedPrismaClient;
/** The client handed to `prisma.$transaction(async (tx) => …)`. */
export type TransactionClient = Prisma.TransactionClient;

export interface CreatePrismaClientOptions {
  databaseUrl: string;
  /** PostgreSQL schema holding the tables (one per test file, or per deployment); defaults to the search_path. */
  schema?: string;
  /** Pool max connections (default 10). */
  poolSize?: number;
}

export function createPrismaClient(options: CreatePrismaClientOptions): PrismaClient {
  const { databaseUrl, schema, poolSize = 10 } = options;
  const adapter = new PrismaPg(
    {
      connectionString: databaseUrl,
      max: poolSize,
      // search_path covers $queryRaw and enum casts; the adapter's `schema` qualifies the generated queries.
      ...(schema === undefined ? {} : { options: `-c search_path=${quoteSchema(schema)}` }),
    },
    schema === undefined ? undefined : { schema },
  );
  return new GeneratedPrismaClient({ adapter });
}
