import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statementNames } from './client.js';
import { createTestSchema, type TestSchema } from './testing.js';

describe('statementNames', () => {
  it('names a text from its second sighting on, the same name each time, and never more than max texts', () => {
    const name = statementNames({ after: 2, max: 2 });
    expect(name({ sql: 'SELECT 1' })).toBe('');
    const first = name({ sql: 'SELECT 1' });
    expect(first).toMatch(/^steward_[0-9a-f]{20}$/);
    expect(name({ sql: 'SELECT 1' })).toBe(first);
    name({ sql: 'SELECT 2' });
    expect(name({ sql: 'SELECT 2' })).not.toBe(first);
    name({ sql: 'SELECT 3' });
    expect(name({ sql: 'SELECT 3' })).toBe(''); // over the cap: unnamed
    expect(name({ sql: 'SELECT 1' })).toBe(first);
  });
});

describe('prepared statements on a real connection', () => {
  let db: TestSchema;
  beforeAll(async () => {
    db = await createTestSchema('client');
  });
  afterAll(async () => db.drop());

  it('prepares a repeated query once per connection and keeps answering it right', async () => {
    const rows = await db.prisma.$transaction(async (tx) => {
      const answers: number[] = [];
      for (let i = 1; i <= 4; i++) answers.push(...(await tx.$queryRaw<{ n: number }[]>`SELECT ${i}::int + 1 AS n`).map((r) => r.n));
      const prepared = await tx.$queryRaw<{ name: string; statement: string }[]>`SELECT name, statement FROM pg_prepared_statements`;
      return { answers, prepared };
    });
    expect(rows.answers).toEqual([2, 3, 4, 5]);
    const mine = rows.prepared.filter((p) => p.statement.includes('::int + 1 AS n'));
    expect(mine).toHaveLength(1);
    expect(mine[0]!.name).toMatch(/^steward_/);
  });
});
