import pg from 'pg';
import { Prisma } from './generated/prisma/client.js';

/**
 * True for a unique-constraint violation, e.g. a reused idempotency key: Prisma's P2002 from a model query, the
 * database's 23505 from a raw one through Prisma (P2010), or 23505 itself from node-postgres (`SqlClient` paths).
 */
export function isUniqueViolation(err: unknown): boolean {
  if (err instanceof pg.DatabaseError) return err.code === '23505';
  if (!(err instanceof Prisma.PrismaClientKnownRequestError)) return false;
  return err.code === 'P2002' || (err.code === 'P2010' && /\b23505\b|UniqueConstraintViolation/.test(JSON.stringify(err.meta ?? {}) + err.message));
}

/**
 * True when a transaction lost to a concurrent one and can simply run again: serialization_failure (40001, also what
 * steward_claim_runs raises for a stale cached run) or deadlock_detected (40P01), from node-postgres or through
 * Prisma's raw queries (P2010) and interactive transactions (P2034).
 */
export function isRetryableConflict(err: unknown): boolean {
  if (err instanceof pg.DatabaseError) return err.code === '40001' || err.code === '40P01';
  if (!(err instanceof Prisma.PrismaClientKnownRequestError)) return false;
  return err.code === 'P2034' || (err.code === 'P2010' && /\b40001\b|\b40P01\b/.test(JSON.stringify(err.meta ?? {}) + err.message));
}

/**
 * JSON for a Prisma Json column. Values reaching here were parsed from JSON by zod at the door, so they are
 * JSON-serialisable; Prisma's input type cannot see that through `unknown`. `undefined`/`null` become JSON null.
 */
export function json(value: unknown): Prisma.InputJsonValue | typeof Prisma.JsonNull {
  return value === undefined || value === null ? Prisma.JsonNull : (value);
}
