// Every definition shipped in workflows/ registers against the built-in skills (and the examples run as documented).
import { createTestSchema, type TestSchema } from '@steward/state';
import { registerDefinitionsFromDir } from '@steward/workflows';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let db: TestSchema;
beforeAll(async () => {
  db = await createTestSchema('shipped');
  await db.prisma.skill.createMany({
    data: [
      { name: 'echo', category: 'core', inputSchema: { type: 'object' } },
      { name: 'text.uppercase', category: 'text', inputSchema: { type: 'object' } },
      { name: 'util.sleep', category: 'core', inputSchema: { type: 'object', required: ['ms'] } },
    ].map((s) => ({ ...s, description: s.name, kind: 'code', sideEffects: 'none', timeoutMs: 1000 })),
  });
});
afterAll(async () => {
  await db.drop();
});

describe('shipped workflow definitions', () => {
  it('all register, and registering them again changes nothing', async () => {
    const dir = fileURLToPath(new URL('../../workflows', import.meta.url));
    const first = await registerDefinitionsFromDir(db.prisma, dir);
    expect(first.refused).toEqual([]);
    expect(first.registered).toEqual(expect.arrayContaining(['demo.shout@1', 'bench.three-step@1', 'bench.fan-out@1', 'example.review-change@1', 'example.nested@1', 'example.wait-for-event@1']));
    const again = await registerDefinitionsFromDir(db.prisma, dir);
    expect(again.registered).toEqual([]);
    expect(again.unchanged.sort()).toEqual(first.registered.sort());
  });

  it('registers definitions whose skills no worker has registered yet, and says which (workers deploy on their own)', async () => {
    const empty = await createTestSchema('shipped_noskills');
    try {
      const r = await registerDefinitionsFromDir(empty.prisma, fileURLToPath(new URL('../../workflows', import.meta.url)));
      expect(r.refused).toEqual([]);
      expect(r.waitingForSkills).toContainEqual({ file: 'demo.shout.yaml', skills: ['echo', 'text.uppercase'] });
    } finally {
      await empty.drop();
    }
  });
});
