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
 * JSON for a Prisma Json column. Values reaching here were parsed from JSON by zod at the door, so they are
 * JSON-serialisable; Prisma's input type cannot see that through `unknown`. `undefined`/`null` become JSON null.
 */
export function json(value: unknown): Prisma.InputJsonValue | typeof Prisma.JsonNull {
  return value === undefined || value === null ? Prisma.JsonNull : (value);
}
