// Raw transactions on node-postgres (the workflow-runner's path): the same SQL as Prisma's, committed or rolled back
// as a whole, on a connection left clean for the next user.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Prisma } from './generated/prisma/client.js';
import { UnitOfWork } from './outbox/unit-of-work.js';
import { pgTransaction, type SqlClient } from './sql-client.js';
import { createTestSchema, type TestSchema } from './testing.js';

let db: TestSchema;
beforeAll(async () => {
  db = await createTestSchema('sqlclient');
  await db.prisma.$executeRaw`CREATE TABLE notes (id int PRIMARY KEY, body jsonb, tag text, at timestamptz)`;
});
afterAll(async () => db.drop());

const count = async () => (await db.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM notes`)[0]!.n;

describe('pgTransaction', () => {
  it('runs tagged templates and Prisma.sql fragments with the values Prisma would send, and commits', async () => {
    const at = new Date('2026-12-03T10:00:00.123Z');
    const rows = await pgTransaction(db.pool, db.statementName, async (tx) => {
      const inserted = await tx.$executeRaw`INSERT INTO notes (id, body, tag, at) SELECT * FROM unnest(${[1, 2]}::int[], ${[JSON.stringify({ a: 1 }), null]}::jsonb[], ${['x', 'y']}::text[], ${[at, null]}::timestamptz[])`;
      expect(inserted).toBe(2);
      return tx.$queryRaw<{ id: number; body: unknown; at: Date | null }[]>(Prisma.sql`SELECT id, body, at FROM notes WHERE id = ANY(${[1, 2]}::int[]) ${Prisma.sql`ORDER BY id`}`);
    });
    expect(rows).toEqual([
      { id: 1, body: { a: 1 }, at },
      { id: 2, body: null, at: null },
    ]);
    expect(await count()).toBe(2); // seen from another connection: committed
  });

  it('sends the first statement with BEGIN, its values inlined exactly as they would be bound', async () => {
    const tricky = [`it's`, 'back\\slash', '"quoted", {braced}', 'NULL', '', 'ünïcødé ✓', "'; DROP TABLE notes; --"];
    const body = { text: `a 'b' "c" \\ d`, list: [1, null, 'x'] };
    const at = new Date('2026-12-03T10:00:00.123Z');
    const first = async (tx: SqlClient) =>
      tx.$queryRaw<{ tags: string[]; body: unknown; at: Date; n: number; nothing: null }[]>`
        SELECT ${tricky}::text[] AS tags, ${JSON.stringify(body)}::jsonb AS body, ${at}::timestamptz AS at, ${41}::int + 1 AS n, ${null}::text AS nothing`;
    const [inlined] = await pgTransaction(db.pool, db.statementName, first); // first statement: BEGIN; <inlined>
    const [bound] = await pgTransaction(db.pool, db.statementName, async (tx) => {
      await tx.$queryRaw`SELECT 1`;
      return first(tx); // not first: bound parameters
    });
    expect(inlined).toEqual({ tags: tricky, body, at, n: 42, nothing: null });
    expect(bound).toEqual(inlined);
    // The first statement is inside the transaction: rolled back with it.
    await expect(
      pgTransaction(db.pool, db.statementName, async (tx) => {
        await tx.$executeRaw`INSERT INTO notes (id, tag) VALUES (${20}, ${tricky[1]})`;
        throw new Error('undo');
      }),
    ).rejects.toThrow('undo');
    expect(await count()).toBe(2);
  });

  it('rolls back when the work throws, and the connection goes back to the pool clean', async () => {
    await expect(
      pgTransaction(db.pool, db.statementName, async (tx) => {
        await tx.$executeRaw`INSERT INTO notes (id) VALUES (${10})`;
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    await expect(
      pgTransaction(db.pool, db.statementName, async (tx) => {
        await tx.$executeRaw`INSERT INTO notes (id) VALUES (${11})`;
        await tx.$executeRaw`INSERT INTO notes (id) VALUES (${1})`; // duplicate key
      }),
    ).rejects.toMatchObject({ code: '23505' });
    expect(await count()).toBe(2);
    // Every pooled connection still works outside any transaction.
    const states = await Promise.all(
      Array.from({ length: 4 }, () => pgTransaction(db.pool, db.statementName, async (tx) => (await tx.$queryRaw<{ s: string }[]>`SELECT current_setting('transaction_isolation') AS s`)[0]!.s)),
    );
    expect(states).toEqual(Array(4).fill('read committed'));
  });

  it('prepares a repeated statement once per connection, by the same names as Prisma', async () => {
    const prepared = await pgTransaction(db.pool, db.statementName, async (tx) => {
      for (let i = 0; i < 3; i++) await tx.$queryRaw`SELECT ${i}::int + 40 AS n`;
      return tx.$queryRaw<{ name: string }[]>`SELECT name FROM pg_prepared_statements WHERE statement LIKE '%::int + 40 AS n'`;
    });
    expect(prepared).toHaveLength(1);
    expect(prepared[0]!.name).toMatch(/^steward_/);
  });
});

describe('deferred statements', () => {
  it('go with the COMMIT, in order with the rest, and a failing one rolls the whole transaction back', async () => {
    const uow = new UnitOfWork(db.prisma, undefined, db);
    const seen = await uow.sqlTransaction(async (ctx) => {
      await ctx.tx.$executeRaw`INSERT INTO notes (id, tag) VALUES (${30}, ${'first'})`;
      await ctx.executeDeferred(Prisma.sql`UPDATE notes SET tag = ${'deferred'} WHERE id = ${30}`);
      // A later statement sees the deferred one's effect: it was sent first.
      const [row] = await ctx.tx.$queryRaw<{ tag: string }[]>`SELECT tag FROM notes WHERE id = ${30}`;
      await ctx.executeDeferred(Prisma.sql`INSERT INTO notes (id, tag) VALUES (${31}, ${"it's last"})`);
      return row!.tag;
    });
    expect(seen).toBe('deferred');
    expect(await db.prisma.$queryRaw<{ id: number; tag: string }[]>`SELECT id, tag FROM notes WHERE id IN (30, 31) ORDER BY id`).toEqual([
      { id: 30, tag: 'deferred' },
      { id: 31, tag: "it's last" },
    ]);
    await expect(
      uow.sqlTransaction(async (ctx) => {
        await ctx.tx.$executeRaw`INSERT INTO notes (id, tag) VALUES (${32}, ${'kept?'})`;
        await ctx.executeDeferred(Prisma.sql`INSERT INTO notes (id) VALUES (${30})`); // duplicate key, fails with the COMMIT
      }),
    ).rejects.toMatchObject({ code: '23505' });
    expect(await db.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM notes WHERE id = 32`).toEqual([{ n: 0 }]);
    // A deferred statement alone commits by itself.
    await uow.sqlTransaction(async (ctx) => ctx.executeDeferred(Prisma.sql`INSERT INTO notes (id, tag) VALUES (${33}, ${'alone'})`));
    expect(await db.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM notes WHERE id = 33`).toEqual([{ n: 1 }]);
    await db.prisma.$executeRaw`DELETE FROM notes WHERE id >= 30`;
  });

  it('several go together in one round trip, a transaction by themselves when nothing came before, all or none', async () => {
    const uow = new UnitOfWork(db.prisma, undefined, db);
    const committed: string[] = [];
    await uow.sqlTransaction(async (ctx) => {
      await ctx.executeDeferred(Prisma.sql`INSERT INTO notes (id, tag) VALUES (${40}, ${'a'})`);
      await ctx.executeDeferred(Prisma.sql`UPDATE notes SET tag = tag || ${'b'} WHERE id = ${40}`);
      ctx.afterCommit(() => committed.push('first'));
    });
    expect(committed).toEqual(['first']);
    expect(await db.prisma.$queryRaw<{ tag: string }[]>`SELECT tag FROM notes WHERE id = 40`).toEqual([{ tag: 'ab' }]);
    // The second fails: the first, sent in the same query without BEGIN, is rolled back with it.
    await expect(
      uow.sqlTransaction(async (ctx) => {
        await ctx.executeDeferred(Prisma.sql`INSERT INTO notes (id, tag) VALUES (${41}, ${'gone'})`);
        await ctx.executeDeferred(Prisma.sql`INSERT INTO notes (id) VALUES (${40})`);
        ctx.afterCommit(() => committed.push('second'));
      }),
    ).rejects.toMatchObject({ code: '23505' });
    expect(committed).toEqual(['first']); // never called for a rollback
    // Deferred ones go before a later statement, which sees them; BEGIN goes with them.
    const seen = await uow.sqlTransaction(async (ctx) => {
      await ctx.executeDeferred(Prisma.sql`INSERT INTO notes (id, tag) VALUES (${42}, ${'x'})`);
      await ctx.executeDeferred(Prisma.sql`UPDATE notes SET tag = ${'y'} WHERE id = ${42}`);
      return ctx.tx.$queryRaw<{ tag: string; open: boolean }[]>`SELECT tag, now() = statement_timestamp() AS open FROM notes WHERE id = ${42}`;
    });
    expect(seen).toEqual([{ tag: 'y', open: false }]); // in a transaction begun before this statement
    expect(await db.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM notes WHERE id IN (41, 42)`).toEqual([{ n: 1 }]);
    await db.prisma.$executeRaw`DELETE FROM notes WHERE id >= 40`;
  });
});

describe('UnitOfWork.sqlTransaction', () => {
  it('writes the outbox rows of what it emits in the same raw transaction, and none when it rolls back', async () => {
    const uow = new UnitOfWork(db.prisma, undefined, db);
    const event = (id: string) => ({ subject: 'steward.test', envelope: { id, type: 'steward.test.v1' } }) as unknown as Parameters<Parameters<Parameters<UnitOfWork['sqlTransaction']>[0]>[0]['emit']>[0];
    const seen = await uow.sqlTransaction(async (ctx) => {
      const tx: SqlClient = ctx.tx;
      ctx.emit(event('e-kept'));
      return (await tx.$queryRaw<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`)[0]!.pid;
    });
    expect(seen).toBeGreaterThan(0);
    await expect(
      uow.sqlTransaction(async (ctx) => {
        ctx.emit(event('e-dropped'));
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    const ids = (await db.prisma.outbox.findMany({ select: { eventId: true } })).map((r) => r.eventId);
    expect(ids).toContain('e-kept');
    expect(ids).not.toContain('e-dropped');
  });
});
