// The escalation service's handlers against real PostgreSQL: decisions are driven in as the workflow-runner and the
// gateway would send them, and the outbox is read for what the service said. A "restart" is a fresh EngineStore
// (nothing in memory) over the same database.
import { EscalationPolicy, makeEvent, type DecisionRequestedV1, type Envelope, type EscalationPolicyInput } from '@steward/contracts';
import { UnitOfWork, createTestSchema, type TestSchema } from '@steward/state';
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handleControl } from './answers/control.handler.js';
import { sweepEscalations } from './batches/sweep.js';
import { decideDecisions, type DecideDeps } from './decisions/decide.handler.js';
import { withdrawDecisions } from './decisions/withdraw.handler.js';
import { EngineStore } from './engine/engine-store.js';
import { EscalationMetrics } from './metrics.js';

let db: TestSchema;
let uow: UnitOfWork;
let deps: DecideDeps;
let tenant: string;

beforeAll(async () => {
  db = await createTestSchema('escalation');
  uow = new UnitOfWork(db.prisma);
});
afterAll(async () => {
  await db.drop();
});
beforeEach(() => {
  tenant = `t${randomUUID().slice(0, 8)}`;
  deps = { store: new EngineStore(1), fallbackAfterMs: 60_000 };
});

async function setPolicy(p: EscalationPolicyInput, version = 1): Promise<void> {
  await db.prisma.escalationRuleSet.create({ data: { id: randomUUID(), tenantId: tenant, version, rules: EscalationPolicy.parse(p) } });
}

const OPTIONS = [
  { id: 'merge', label: 'Merge' },
  { id: 'hold', label: 'Hold' },
];

function requested(over: Partial<DecisionRequestedV1> = {}): Envelope<DecisionRequestedV1> {
  const decisionId = randomUUID();
  return makeEvent(
    'decision.requested.v1',
    { decisionId, tenantId: tenant, type: 'pr.merge', options: OPTIONS, proposal: 'merge', context: { risk: 'low', reversible: true, confidence: 0.9, branch: 'feature' }, ...over },
    { source: 'test', tenantId: tenant, correlationId: decisionId },
  ).envelope;
}
const decide = (...e: Envelope<DecisionRequestedV1>[]) => uow.transaction((c) => decideDecisions(c, deps, e));
const answer = (decisionId: string, choice: string, requestId = randomUUID()) =>
  uow.transaction((c) =>
    handleControl(c, deps, [makeEvent('escalation.control.v1', { requestId, tenantId: tenant, action: { kind: 'answer', decisionId, choice, answeredBy: 'ada' } }, { source: 'test', tenantId: tenant, correlationId: decisionId }).envelope]),
  );

async function events(type: string): Promise<Envelope<Record<string, unknown>>[]> {
  const all = (await db.prisma.outbox.findMany({ orderBy: { id: 'asc' } })).map((r) => JSON.parse(r.payload) as Envelope<Record<string, unknown>>);
  return all.filter((e) => e.tenantid === tenant && e.type === `steward.${type}`);
}
const decision = (id: string) => db.prisma.decision.findUniqueOrThrow({ where: { id } });
const batches = () => db.prisma.escalationBatch.findMany({ where: { tenantId: tenant }, orderBy: { createdAt: 'asc' } });

describe('escalation service (real PostgreSQL)', () => {
  it('escalates what it has no evidence for, with a score, a threshold, a policy version and reasons', async () => {
    const e = requested();
    await decide(e);
    const d = await decision(e.data.decisionId);
    expect(d).toMatchObject({ status: 'escalated', recipient: 'default', policyVersion: expect.any(String) as string });
    expect(d.score).toEqual(expect.any(Number));
    expect((d.reasons as string[]).length).toBeGreaterThan(0);
    const [escalated] = await events('decision.escalated.v1');
    expect(escalated!.data).toMatchObject({ decisionId: e.data.decisionId, batchId: d.batchId, type: 'pr.merge', proposal: 'merge', basis: 'not_earned' });
    expect(await events('decision.resolved.v1')).toHaveLength(0); // nothing is decided silently
  });

  it('counts escalations on /metrics by what settled them: autonomy not yet earned, a hard rule', async () => {
    const registry = new Registry();
    deps = { ...deps, metrics: new EscalationMetrics(registry) };
    await decide(requested(), requested(), requested({ context: { risk: 'low', reversible: false } }));
    const text = await registry.metrics();
    expect(text).toContain(`steward_escalations_total{tenant="${tenant}",basis="not_earned"} 2`);
    expect(text).toContain(`steward_escalations_total{tenant="${tenant}",basis="rule"} 1`);
    expect(text).toContain(`steward_decisions_total{tenant="${tenant}",outcome="escalated"} 3`);
  });

  it('sends a batch when it holds batchSize escalations, most urgent first', async () => {
    await setPolicy({ batchSize: 3 });
    const es = [requested({ context: { urgency: 'low' } }), requested({ context: { urgency: 'high' } })];
    await decide(...es);
    expect(await batches()).toMatchObject([{ status: 'open', itemCount: 2 }]);
    const third = requested();
    await decide(third);
    const [b] = await batches();
    expect(b).toMatchObject({ status: 'sent', trigger: 'size', itemCount: 3 });
    const [ready] = await events('escalation.batch.ready.v1');
    expect(ready!.data).toMatchObject({ batchId: b!.id, trigger: 'size', recipient: 'default' });
    expect(ready!.data['decisionIds']).toEqual([es[1]!.data.decisionId, third.data.decisionId, es[0]!.data.decisionId]);
    // The next escalation opens a new batch.
    await decide(requested());
    expect((await batches()).map((x) => x.status)).toEqual(['sent', 'open']);
  });

  it('sends at once when a critical decision arrives, with what was waiting', async () => {
    await decide(requested());
    await decide(requested({ context: { critical: true } }));
    const [b] = await batches();
    expect(b).toMatchObject({ status: 'sent', trigger: 'critical', itemCount: 2 });
  });

  it('sends a batch whose oldest escalation waited batchTimeoutMs (the sweep)', async () => {
    await setPolicy({ batchTimeoutMs: 60_000 });
    await decide(requested());
    await sweepEscalations(uow, {});
    const [open] = await batches();
    expect(open).toMatchObject({ status: 'open' });
    expect(open!.dueAt!.getTime() - open!.createdAt.getTime()).toBe(60_000);
    await db.prisma.escalationBatch.update({ where: { id: open!.id }, data: { dueAt: new Date(Date.now() - 1) } }); // the minute has passed
    await sweepEscalations(uow, {});
    expect((await batches())[0]).toMatchObject({ status: 'sent', trigger: 'timeout' });
  });

  it('a restart with a half-filled batch loses nothing: the batch fills and sends, the engine keeps what it learned', async () => {
    await setPolicy({ batchSize: 3 });
    await decide(requested(), requested());
    const before = await db.prisma.modelSnapshot.findFirstOrThrow({ where: { tenantId: tenant } });
    deps = { ...deps, store: new EngineStore(1) }; // the service restarted: nothing in memory
    await decide(requested());
    expect((await batches())[0]).toMatchObject({ status: 'sent', trigger: 'size', itemCount: 3 });
    const after = await db.prisma.modelSnapshot.findFirstOrThrow({ where: { tenantId: tenant } });
    expect(after.version).toBe(before.version + 1);
    expect((after.weights as { counters: { decisions: number } }).counters.decisions).toBe(3);
  });

  it('a stored snapshot it cannot read (another engine version) is reported and replaced by a fresh engine', async () => {
    await db.prisma.modelSnapshot.create({ data: { id: `${tenant}:escalation-engine`, tenantId: tenant, kind: 'escalation-engine', version: 7, weights: { version: 0, tenants: [] } } });
    const warnings: string[] = [];
    deps = { ...deps, store: new EngineStore(1, (msg) => warnings.push(msg)) };
    const e = requested();
    await decide(e);
    expect(await decision(e.data.decisionId)).toMatchObject({ status: 'escalated' });
    expect(warnings).toEqual([expect.stringContaining('cannot be read')]);
    expect((await db.prisma.modelSnapshot.findUniqueOrThrow({ where: { id: `${tenant}:escalation-engine` } })).version).toBe(8);
  });

  it('a redelivered request changes nothing', async () => {
    const e = requested();
    await decide(e);
    await decide(e);
    await decide(e, e);
    expect(await events('decision.escalated.v1')).toHaveLength(1);
    expect((await batches())[0]!.itemCount).toBe(1);
  });

  it('answers are idempotent and the first one wins; the run gets decision.resolved once; the batch closes', async () => {
    await setPolicy({ batchSize: 1 });
    const e = requested();
    await decide(e);
    const requestId = randomUUID();
    await answer(e.data.decisionId, 'hold', requestId);
    await answer(e.data.decisionId, 'hold', requestId);
    await answer(e.data.decisionId, 'merge'); // a later, different answer: too late
    expect(await decision(e.data.decisionId)).toMatchObject({ status: 'resolved', resolvedBy: 'human', resolution: { choice: 'hold', answeredBy: 'ada' } });
    expect(await db.prisma.escalationAnswer.count({ where: { decisionId: e.data.decisionId } })).toBe(1);
    const resolved = await events('decision.resolved.v1');
    expect(resolved.map((r) => r.data)).toEqual([expect.objectContaining({ decisionId: e.data.decisionId, choice: 'hold', resolvedBy: 'human' })]);
    expect((await batches())[0]).toMatchObject({ status: 'answered' });
  });

  it('an answer that is not an option, or for another tenant, is ignored', async () => {
    const e = requested();
    await decide(e);
    await answer(e.data.decisionId, 'yolo');
    const other = tenant;
    tenant = 'someone-else';
    await answer(e.data.decisionId, 'merge');
    tenant = other;
    expect(await decision(e.data.decisionId)).toMatchObject({ status: 'escalated' });
  });

  it('an unanswered escalation takes its declared fallback at fallbackAt and says so; one without a fallback waits', async () => {
    const past = new Date(Date.now() - 1000).toISOString();
    const withFallback = requested({ fallback: 'hold', fallbackAt: past });
    const without = requested();
    await decide(withFallback, without);
    await sweepEscalations(uow, {});
    const d = await decision(withFallback.data.decisionId);
    expect(d).toMatchObject({ status: 'timed_out', resolvedBy: 'timeout', resolution: { choice: 'hold' } });
    const [resolved] = await events('decision.resolved.v1');
    expect(resolved!.data).toMatchObject({ decisionId: withFallback.data.decisionId, choice: 'hold', resolvedBy: 'timeout' });
    expect(JSON.stringify(resolved!.data['reasons'])).toContain('declared fallback');
    expect(await decision(without.data.decisionId)).toMatchObject({ status: 'escalated' });
  });

  it('a withdrawn escalation leaves the inbox, its answer changes nothing; a withdrawal before its request wins', async () => {
    await setPolicy({ batchSize: 2 });
    const e = requested();
    await decide(e);
    const withdraw = (x: Envelope<DecisionRequestedV1>) =>
      uow.transaction((c) =>
        withdrawDecisions(c, [makeEvent('decision.withdrawn.v1', { decisionId: x.data.decisionId, tenantId: tenant, type: x.data.type, options: x.data.options, reason: 'run cancelled' }, { source: 'test', tenantId: tenant, correlationId: 'x' }).envelope]),
      );
    await withdraw(e);
    await withdraw(e);
    expect(await decision(e.data.decisionId)).toMatchObject({ status: 'withdrawn' });
    expect(JSON.stringify((await decision(e.data.decisionId)).reasons)).toContain('run cancelled');
    await answer(e.data.decisionId, 'merge');
    expect(await decision(e.data.decisionId)).toMatchObject({ status: 'withdrawn' });
    expect(await events('decision.resolved.v1')).toHaveLength(0);
    // The half-filled batch now holds nothing to ask: the sweep closes it instead of sending it.
    await db.prisma.escalationBatch.updateMany({ where: { tenantId: tenant }, data: { dueAt: new Date(Date.now() - 1) } });
    await sweepEscalations(uow, {});
    expect((await batches())[0]).toMatchObject({ status: 'answered' });
    expect(await events('escalation.batch.ready.v1')).toHaveLength(0);

    const late = requested();
    await withdraw(late);
    await decide(late);
    expect(await decision(late.data.decisionId)).toMatchObject({ status: 'withdrawn' });
    expect(await events('decision.escalated.v1')).toHaveLength(1); // only the first one was ever escalated
  });

  it('earns autonomy for a decision type from consistent answers; irreversible ones still escalate', async () => {
    await setPolicy({ alpha: 0.2, delta: 0.05, batchSize: 1, auditRate: 0 });
    let autonomous: string | undefined;
    for (let i = 0; i < 200 && !autonomous; i++) {
      const e = requested();
      await decide(e);
      const d = await decision(e.data.decisionId);
      if (d.status === 'resolved') autonomous = d.id;
      else await answer(d.id, 'merge');
    }
    expect(autonomous).toBeDefined();
    const d = await decision(autonomous!);
    expect(['autonomous', 'preference']).toContain(d.resolvedBy);
    expect(await events('decision.resolved.v1')).toEqual(expect.arrayContaining([expect.objectContaining({ data: expect.objectContaining({ decisionId: autonomous, choice: 'merge' }) as unknown })]));
    const risky = requested({ context: { risk: 'low', reversible: false, confidence: 0.9, branch: 'feature' } });
    await decide(risky);
    const r = await decision(risky.data.decisionId);
    expect(r.status).toBe('escalated');
    expect(JSON.stringify(r.reasons)).toMatch(/irreversible/i);
  });
});
