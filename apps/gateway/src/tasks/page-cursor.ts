import { z } from 'zod';

/**
 * Keyset pagination on (createdAt, id), newest first, for lists of rows that have both (tasks, sessions). The cursor
 * is opaque to clients: base64url of the last row's position. It carries no filter, so a client that changes its
 * filters between pages simply continues from the same position.
 */
export interface PagePosition {
  createdAt: Date;
  id: string;
}

const Position = z.tuple([z.iso.datetime({ offset: true }), z.string().min(1).max(128)]);

/** The `cursor` query parameter: a `nextCursor` this API gave out. */
export const PageCursor = z
  .string()
  .min(1)
  .max(512)
  .transform((text, ctx): PagePosition => {
    try {
      const [at, id] = Position.parse(JSON.parse(Buffer.from(text, 'base64url').toString('utf8')));
      return { createdAt: new Date(at), id };
    } catch {
      ctx.addIssue({ code: 'custom', message: 'not a cursor given out by this API (use nextCursor as it is)' });
      return z.NEVER;
    }
  });

/** The `limit` query parameter of a list: 1 to 200, 50 by default. */
export const PageLimit = z.coerce.number().int().min(1).max(200).default(50);

export function encodeCursor(p: PagePosition): string {
  return Buffer.from(JSON.stringify([p.createdAt.toISOString(), p.id])).toString('base64url');
}

/** The rows strictly after `p` in (createdAt desc, id desc) order, as a Prisma where fragment. */
export function after(p: PagePosition | undefined): { OR?: ({ createdAt: { lt: Date } } | { createdAt: Date; id: { lt: string } })[] } {
  return p ? { OR: [{ createdAt: { lt: p.createdAt } }, { createdAt: p.createdAt, id: { lt: p.id } }] } : {};
}

/** The order that `after` continues. */
export const NEWEST_FIRST = [{ createdAt: 'desc' as const }, { id: 'desc' as const }];

/** Cuts `rows` (fetched with `take: limit + 1`) to a page and the cursor of the next one (null on the last page). */
export function toPage<T extends PagePosition>(rows: T[], limit: number): { rows: T[]; nextCursor: string | null } {
  if (rows.length <= limit) return { rows, nextCursor: null };
  const page = rows.slice(0, limit);
  return { rows: page, nextCursor: encodeCursor(page.at(-1)!) };
}
