import { makeEvent } from '@steward/contracts';
import { UnitOfWork, createTestSchema, type TestSchema } from '@steward/state';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordDecision } from './record-decision.handler.js';

let db: TestSchema;
beforeAll(async () => {
  db = await createTestSchema('escalation');
});
afterAll(async () => {
  await db.drop();
});

describe('recordDecision (real PostgreSQL)', () => {
  it('records a requested decision once, escalated with its reason, never decided silently', async () => {
    const decisionId = randomUUID();
    const event = makeEvent(
      'decision.requested.v1',
      { decisionId, tenantId: 't1', type: 'deploy.approve', options: [{ id: 'yes', label: 'Deploy' }, { id: 'no', label: 'Hold' }], proposal: 'yes', context: { risk: 'low' } },
      { source: 'test', tenantId: 't1', correlationId: decisionId },
    ).envelope;
    const uow = new UnitOfWork(db.prisma);
    await uow.run((c) => recordDecision(c, event));
    await uow.run((c) => recordDecision(c, event));
    const rows = await db.prisma.decision.findMany({ where: { id: decisionId } });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ type: 'deploy.approve', status: 'escalated', proposal: 'yes', resolvedBy: null, context: { risk: 'low' } });
    expect(JSON.stringify(rows[0]!.reasons)).toContain('escalated');
  });
});
