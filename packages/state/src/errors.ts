import { Prisma } from './generated/prisma/client.js';

/** True for a unique-constraint violation (Prisma P2002), e.g. a reused idempotency key. */
export function isUniqueViolation(err: unknown): boolean {
  return err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002';
}

/**
 * JSON for a Prisma Json column. Values reaching here were parsed from JSON by zod at the door, so they are
 * JSON-serialisable; Prisma's input type cannot see that through `unknown`. `undefined`/`null` become JSON null.
 */
export function json(value: unknown): Prisma.InputJsonValue | typeof Prisma.JsonNull {
  return value === undefined || value === null ? Prisma.JsonNull : (value);
}
