// The person's side of escalation over HTTP, against real PostgreSQL and NATS JetStream: batches and decisions to
// read, answers (one decision, chosen ones of a batch, approve-all) and revocations as escalation.control.v1 commands
// on the bus, learned preferences, the versioned policy; bad input as 400 with the zod issues, the 409 and 422 the
// gateway can tell itself, scopes, and tenant isolation on every route. The rows are seeded as the escalation service
// writes them; nothing here consumes the commands, so the rows stay as seeded unless a route writes them.
import { startConsumer, type RunningConsumer } from '@steward/bus';
import { EscalationPolicy, makeEvent, type Envelope, type EscalationControlV1 } from '@steward/contracts';
import type { Prisma } from '@steward/state';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, settle as settleStream, startTestGateway, type TestGateway } from './gateway-app.js';
import { createTask } from './stream-fixtures.js';

let gw: TestGateway;
const consumers: RunningConsumer[] = [];
const controls: Envelope<EscalationControlV1>[] = [];

let A: Record<string, string>;
let B: Record<string, string>;
type Body = Record<string, unknown>;
type DecisionView = { id: string; status: string; review: boolean; reviewed: boolean; batchId?: string };
type BatchView = { id: string; status: string; decisions: DecisionView[] };

const uuid = expect.stringMatching(/^[0-9a-f-]{36}$/) as string;
const containing = (text: string) => expect.stringContaining(text) as string;
const issuesOf = (r: { body: Body }) => ((r.body['error'] as { issues?: { path: unknown[] }[] }).issues ?? []).map((i) => i.path.join('.'));
/** The decision or preference a command is about. */
const targetOf = (c: Envelope<EscalationControlV1>) => (c.data.action.kind === 'answer' ? c.data.action.decisionId : c.data.action.preferenceId);

const commandOf = (requestId: unknown) => eventually(controls, (l) => l.find((e) => e.data.requestId === requestId));
/** Waits until a marker command has come through: a command published by mistake before it has come through too. */
const settle = () =>
  settleStream(gw, controls, makeEvent('escalation.control.v1', { requestId: randomUUID(), tenantId: 'marker', action: { kind: 'revoke_preference', preferenceId: 'marker', by: 'test' } }, { source: 'steward/test', tenantId: 'marker', correlationId: 'marker' }));

// ─── seeded rows ───
const t0 = Date.now() - 3_600_000;
const at = (s: number) => new Date(t0 + s * 1000);
const MERGE = [
  { id: 'merge', label: 'Merge the PR' },
  { id: 'hold', label: 'Hold it' },
];
const MIGRATE = [
  { id: 'run', label: 'Run the migration' },
  { id: 'skip', label: 'Skip it' },
];
const verdict = (outcome: string, choice?: string, basis = 'threshold') => ({ outcome, basis, ...(choice ? { choice } : {}), score: 0.41, threshold: 0.9, policyVersion: '3', reasons: ['seeded'] });
/** A verdict as stored before verdicts named their basis. */
const legacyVerdict = (outcome: string) => ({ outcome, score: 0.41, threshold: 0.9, policyVersion: '3', reasons: ['seeded'] });

/** acme's batches and decisions; `bx` are globex's. */
const id = {
  batch: randomUUID(), // sent: two escalations (one without a proposal), a review, one answered
  escMerge: randomUUID(),
  escCritical: randomUUID(),
  review: randomUUID(),
  answered: randomUUID(),
  approvable: randomUUID(), // sent: an escalation with a proposal, a review, a review done
  appEsc: randomUUID(),
  appReview: randomUUID(),
  appReviewed: randomUUID(),
  openBatch: randomUUID(),
  openEsc: randomUUID(),
  expiredBatch: randomUUID(),
  timedOut: randomUUID(),
  pending: randomUUID(),
  bxBatch: randomUUID(),
  bxEsc: randomUUID(),
  bxPending: randomUUID(),
};
const pref = { active: 'acme:pref_1_a', revoked: 'acme:pref_2_b', other: 'acme:pref_3_c', bx: 'globex:pref_1_a' };
let taskId: string;
const ACME_DECISIONS = [id.escMerge, id.escCritical, id.review, id.answered, id.appEsc, id.appReview, id.appReviewed, id.openEsc, id.timedOut, id.pending];
const ACME_IDS = new Set([...ACME_DECISIONS, pref.active, pref.revoked, pref.other]);

function decision(d: Omit<Prisma.DecisionCreateManyInput, 'tenantId' | 'type' | 'options' | 'context'> & Partial<Prisma.DecisionCreateManyInput>): Prisma.DecisionCreateManyInput {
  return { tenantId: 'acme', type: 'deploy.merge', options: MERGE, context: { repo: 'acme/api' }, recipient: 'person', ...d };
}

/** A's decision rows as they are now, to compare after another tenant's attempts. */
const acmeRows = () => gw.db.prisma.decision.findMany({ where: { tenantId: 'acme' }, orderBy: { id: 'asc' } });

beforeAll(async () => {
  gw = await startTestGateway('gateway_escalations');
  A = await gw.authFor('acme');
  B = await gw.authFor('globex');
  taskId = await createTask(gw, 'acme');
  const prisma = gw.db.prisma;
  const batch = (b: Omit<Prisma.EscalationBatchCreateManyInput, 'recipient'>): Prisma.EscalationBatchCreateManyInput => ({ recipient: 'person', ...b });
  await prisma.escalationBatch.createMany({
    data: [
      batch({ id: id.batch, tenantId: 'acme', status: 'sent', trigger: 'size', itemCount: 2, createdAt: at(0), sentAt: at(5) }),
      batch({ id: id.approvable, tenantId: 'acme', status: 'sent', trigger: 'timeout', itemCount: 1, createdAt: at(10), sentAt: at(15) }),
      batch({ id: id.openBatch, tenantId: 'acme', status: 'open', itemCount: 1, createdAt: at(20), dueAt: at(320) }),
      batch({ id: id.expiredBatch, tenantId: 'acme', status: 'expired', trigger: 'critical', itemCount: 1, createdAt: at(30), sentAt: at(30), closedAt: at(90) }),
      batch({ id: id.bxBatch, tenantId: 'globex', status: 'sent', trigger: 'size', itemCount: 1, createdAt: at(1), sentAt: at(2) }),
    ],
  });
  const scored = { score: 0.41, threshold: 0.9, policyVersion: '3', reasons: ['score 0.41 is below the threshold 0.9'] };
  await prisma.decision.createMany({
    data: [
      decision({ id: id.escMerge, batchId: id.batch, taskId, status: 'escalated', proposal: 'merge', context: { repo: 'acme/api', pr: 42 }, ...scored, resolution: { verdict: verdict('escalate') }, fallback: 'hold', fallbackAt: at(7200), createdAt: at(1) }),
      decision({ id: id.escCritical, batchId: id.batch, type: 'db.migrate', options: MIGRATE, status: 'escalated', urgency: 3, resolution: { verdict: verdict('escalate') }, createdAt: at(2) }),
      decision({ id: id.review, batchId: id.batch, status: 'resolved', resolvedBy: 'autonomous', audit: true, auditWeight: 30, proposal: 'merge', resolution: { verdict: verdict('autonomous', 'merge'), choice: 'merge' }, createdAt: at(3), resolvedAt: at(3) }),
      decision({ id: id.answered, batchId: id.batch, status: 'resolved', resolvedBy: 'human', resolution: { verdict: legacyVerdict('escalate'), choice: 'hold', answeredBy: 'ada' }, createdAt: at(4), resolvedAt: at(60) }),
      decision({ id: id.appEsc, batchId: id.approvable, status: 'escalated', proposal: 'merge', resolution: { verdict: verdict('escalate') }, createdAt: at(11) }),
      decision({ id: id.appReview, batchId: id.approvable, status: 'resolved', resolvedBy: 'autonomous', audit: true, proposal: 'merge', resolution: { verdict: verdict('autonomous', 'hold'), choice: 'hold' }, createdAt: at(12), resolvedAt: at(12) }),
      decision({ id: id.appReviewed, batchId: id.approvable, status: 'resolved', resolvedBy: 'autonomous', audit: true, resolution: { verdict: verdict('autonomous', 'merge'), choice: 'merge' }, reviewedAt: at(100), createdAt: at(13), resolvedAt: at(13) }),
      decision({ id: id.openEsc, batchId: id.openBatch, status: 'escalated', proposal: 'hold', resolution: { verdict: verdict('escalate') }, createdAt: at(21) }),
      decision({ id: id.timedOut, batchId: id.expiredBatch, status: 'timed_out', resolvedBy: 'timeout', fallback: 'hold', resolution: { verdict: verdict('escalate'), choice: 'hold' }, createdAt: at(31), resolvedAt: at(90) }),
      decision({ id: id.pending, type: 'refund.issue', options: [{ id: 'yes', label: 'Refund' }, { id: 'no', label: 'Refuse' }], status: 'pending', createdAt: at(40) }),
      decision({ id: id.bxEsc, tenantId: 'globex', batchId: id.bxBatch, status: 'escalated', proposal: 'merge', context: { repo: 'globex/web' }, resolution: { verdict: verdict('escalate') }, createdAt: at(1) }),
      decision({ id: id.bxPending, tenantId: 'globex', status: 'pending', context: { repo: 'globex/web' }, createdAt: at(50) }),
    ],
  });
  const preference = (p: { id: string; tenantId: string; decisionType: string; choice: string; status?: 'active' | 'revoked'; createdAt: Date; attributes?: Prisma.InputJsonObject }) => ({
    attributes: { condition: 'repo=acme/api', evidence: 12 },
    evidence: 12,
    agreement: 0.95,
    confidenceLower: 0.81,
    updatedAt: p.createdAt,
    ...p,
  });
  await prisma.learnedPreference.createMany({
    data: [
      preference({ id: pref.active, tenantId: 'acme', decisionType: 'deploy.merge', choice: 'merge', createdAt: at(100) }),
      preference({ id: pref.revoked, tenantId: 'acme', decisionType: 'deploy.merge', choice: 'hold', status: 'revoked', attributes: { condition: '*', statusReason: 'revoked by ada' }, createdAt: at(200) }),
      preference({ id: pref.other, tenantId: 'acme', decisionType: 'db.migrate', choice: 'skip', createdAt: at(300) }),
      preference({ id: pref.bx, tenantId: 'globex', decisionType: 'deploy.merge', choice: 'hold', attributes: { condition: 'repo=globex/web' }, createdAt: at(100) }),
    ],
  });
  consumers.push(await startConsumer(gw.runtime.bus, { durable: 'test-escalation-control', stream: 'commands', accepts: ['escalation.control.v1'], handle: async (e) => void controls.push(e.envelope) }));
});
afterAll(async () => {
  for (const c of consumers) await c.stop();
  await gw?.stop();
});

describe('GET /v1/escalations/batches', () => {
  it("lists the tenant's sent batches oldest first, each with its decisions most urgent first; by status and limit", async () => {
    const r = await gw.request('GET', '/v1/escalations/batches', { headers: A });
    expect(r.status).toBe(200);
    const batches = r.body['batches'] as BatchView[];
    expect(batches.map((b) => b.id)).toEqual([id.batch, id.approvable]);
    expect(batches[0]).toEqual({ id: id.batch, recipient: 'person', status: 'sent', trigger: 'size', escalations: 2, createdAt: at(0).toISOString(), sentAt: at(5).toISOString(), decisions: expect.any(Array) as unknown });
    expect(batches[0]!.decisions.map((d) => d.id)).toEqual([id.escCritical, id.escMerge, id.review, id.answered]);

    const ids = async (q: string) => ((await gw.request('GET', `/v1/escalations/batches${q}`, { headers: A })).body['batches'] as BatchView[]).map((b) => b.id);
    expect(await ids('?status=open')).toEqual([id.openBatch]);
    expect(await ids('?status=expired')).toEqual([id.expiredBatch]);
    expect(await ids('?status=answered')).toEqual([]);
    expect(await ids('?status=sent&limit=1')).toEqual([id.batch]);
    const expired = (await gw.request('GET', '/v1/escalations/batches?status=expired', { headers: A })).body['batches'] as BatchView[];
    expect(expired[0]).toMatchObject({ trigger: 'critical', closedAt: at(90).toISOString(), decisions: [{ id: id.timedOut, status: 'timed_out' }] });
  });

  it("another tenant lists only its own batches, none of this tenant's", async () => {
    const r = await gw.request('GET', '/v1/escalations/batches', { headers: B });
    expect(r.status).toBe(200);
    const batches = r.body['batches'] as BatchView[];
    expect(batches.map((b) => b.id)).toEqual([id.bxBatch]);
    expect(batches[0]!.decisions.map((d) => d.id)).toEqual([id.bxEsc]);
    for (const status of ['open', 'expired', 'answered']) expect((await gw.request('GET', `/v1/escalations/batches?status=${status}`, { headers: B })).body, status).toEqual({ batches: [] });
    expect(JSON.stringify(r.body)).not.toContain('acme/api');
  });

  it('refuses a bad query with 400 and the zod issues', async () => {
    for (const [q, issue] of [
      ['?status=later', 'status'],
      ['?status=', 'status'],
      ['?limit=0', 'limit'],
      ['?limit=201', 'limit'],
      ['?limit=two', 'limit'],
      ['?tenant=globex', ''],
    ] as const) {
      const r = await gw.request('GET', `/v1/escalations/batches${q}`, { headers: A });
      expect(r.status, q).toBe(400);
      expect(r.body).toMatchObject({ error: { code: 'invalid_request' } });
      expect(issuesOf(r), q).toContain(issue);
    }
  });
});

describe('GET /v1/escalations/batches/:id', () => {
  it('returns a batch of any status with its decisions; an unknown one is 404', async () => {
    const r = await gw.request('GET', `/v1/escalations/batches/${id.batch}`, { headers: A });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: id.batch, status: 'sent', escalations: 2 });
    expect((r.body['decisions'] as DecisionView[]).map((d) => d.id)).toEqual([id.escCritical, id.escMerge, id.review, id.answered]);
    expect((await gw.request('GET', `/v1/escalations/batches/${id.openBatch}`, { headers: A })).body).toMatchObject({ status: 'open', decisions: [{ id: id.openEsc }] });
    const unknown = await gw.request('GET', `/v1/escalations/batches/${randomUUID()}`, { headers: A });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ error: { code: 'not_found' } });
  });

  it("another tenant's key gets 404 for this tenant's batches, and this tenant's for the other's", async () => {
    for (const batchId of [id.batch, id.approvable, id.openBatch, id.expiredBatch]) {
      const r = await gw.request('GET', `/v1/escalations/batches/${batchId}`, { headers: B });
      expect(r.status, batchId).toBe(404);
      expect(r.body).toMatchObject({ error: { code: 'not_found' } });
      expect(JSON.stringify(r.body)).not.toContain('acme/api');
    }
    expect((await gw.request('GET', `/v1/escalations/batches/${id.bxBatch}`, { headers: B })).status).toBe(200);
    expect((await gw.request('GET', `/v1/escalations/batches/${id.bxBatch}`, { headers: A })).status).toBe(404);
  });
});

describe('GET /v1/decisions and /v1/decisions/:id', () => {
  it('returns a decision with its score, reasons, fallback, batch and task; reviews say whether they are done', async () => {
    const r = await gw.request('GET', `/v1/decisions/${id.escMerge}`, { headers: A });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      id: id.escMerge,
      type: 'deploy.merge',
      status: 'escalated',
      options: MERGE,
      proposal: 'merge',
      score: 0.41,
      threshold: 0.9,
      policyVersion: '3',
      reasons: ['score 0.41 is below the threshold 0.9'],
      basis: 'threshold',
      context: { repo: 'acme/api', pr: 42 },
      review: false,
      reviewed: false,
      fallback: 'hold',
      fallbackAt: at(7200).toISOString(),
      batchId: id.batch,
      taskId,
      createdAt: at(1).toISOString(),
    });
    expect((await gw.request('GET', `/v1/decisions/${id.review}`, { headers: A })).body).toMatchObject({ status: 'resolved', resolvedBy: 'autonomous', choice: 'merge', review: true, reviewed: false });
    expect((await gw.request('GET', `/v1/decisions/${id.appReviewed}`, { headers: A })).body).toMatchObject({ review: true, reviewed: true });
    const legacy = await gw.request('GET', `/v1/decisions/${id.answered}`, { headers: A });
    expect(legacy.body).toMatchObject({ resolvedBy: 'human', choice: 'hold', review: false, resolvedAt: at(60).toISOString() });
    expect(legacy.body).not.toHaveProperty('basis'); // stored before verdicts named it
    expect((await gw.request('GET', `/v1/decisions/${randomUUID()}`, { headers: A })).status).toBe(404);
  });

  it("lists the tenant's decisions newest first, by status and type, a limited number", async () => {
    const ids = async (q = '') => {
      const r = await gw.request('GET', `/v1/decisions${q}`, { headers: A });
      expect(r.status, q).toBe(200);
      return (r.body['decisions'] as DecisionView[]).map((d) => d.id);
    };
    const all = await ids();
    expect(all).toHaveLength(ACME_DECISIONS.length);
    expect(all.slice(0, 3)).toEqual([id.pending, id.timedOut, id.openEsc]);
    expect(all.at(-1)).toBe(id.escMerge);
    expect(await ids('?status=escalated')).toEqual([id.openEsc, id.appEsc, id.escCritical, id.escMerge]);
    expect(await ids('?status=timed_out')).toEqual([id.timedOut]);
    expect(await ids('?type=db.migrate')).toEqual([id.escCritical]);
    expect(await ids('?status=escalated&type=deploy.merge&limit=2')).toEqual([id.openEsc, id.appEsc]);
    expect(await ids('?type=nothing.like.it')).toEqual([]);
  });

  it("another tenant's key lists only its own decisions and gets 404 for each of this tenant's", async () => {
    const r = await gw.request('GET', '/v1/decisions?limit=200', { headers: B });
    expect((r.body['decisions'] as DecisionView[]).map((d) => d.id)).toEqual([id.bxPending, id.bxEsc]);
    expect((await gw.request('GET', '/v1/decisions?status=timed_out', { headers: B })).body).toEqual({ decisions: [] });
    expect((await gw.request('GET', '/v1/decisions?type=db.migrate', { headers: B })).body).toEqual({ decisions: [] });
    for (const decisionId of ACME_DECISIONS) {
      const one = await gw.request('GET', `/v1/decisions/${decisionId}`, { headers: B });
      expect(one.status, decisionId).toBe(404);
      expect(one.body).toMatchObject({ error: { code: 'not_found' } });
    }
    expect((await gw.request('GET', `/v1/decisions/${id.bxEsc}`, { headers: A })).status).toBe(404);
  });

  it('refuses a bad query with 400 and the zod issues', async () => {
    for (const [q, issue] of [
      ['?status=withdrawn', 'status'],
      ['?status=open', 'status'],
      ['?type=', 'type'],
      ['?limit=0', 'limit'],
      ['?limit=1.5', 'limit'],
      ['?tenantId=globex', ''],
    ] as const) {
      const r = await gw.request('GET', `/v1/decisions${q}`, { headers: A });
      expect(r.status, q).toBe(400);
      expect(r.body).toMatchObject({ error: { code: 'invalid_request' } });
      expect(issuesOf(r), q).toContain(issue);
    }
  });
});

describe('POST /v1/decisions/:id/answer', () => {
  it('answers an escalation: 202 with the request id, escalation.control.v1 on the bus; the same answer again is the same request', async () => {
    const r = await gw.request('POST', `/v1/decisions/${id.escMerge}/answer`, { body: { choice: 'hold', answeredBy: 'ada' }, headers: A });
    expect(r.status).toBe(202);
    expect(r.body).toEqual({ requestIds: [uuid] });
    const requestId = (r.body['requestIds'] as string[])[0]!;
    const cmd = await commandOf(requestId);
    expect(cmd.data).toEqual({ requestId, tenantId: 'acme', action: { kind: 'answer', decisionId: id.escMerge, choice: 'hold', answeredBy: 'ada' } });
    expect(cmd).toMatchObject({ type: 'steward.escalation.control.v1', tenantid: 'acme', correlationid: taskId, subject: id.escMerge, id: requestId });

    const again = await gw.request('POST', `/v1/decisions/${id.escMerge}/answer`, { body: { choice: 'hold', answeredBy: 'ada' }, headers: A });
    expect(again.status).toBe(202);
    expect(again.body).toEqual(r.body);
    await settle();
    expect(controls.filter((e) => e.data.requestId === requestId)).toHaveLength(1); // JetStream dropped the repeat
  });

  it('answers a review of an autonomous decision (answeredBy defaults to "person"; no task: correlated by the decision)', async () => {
    const r = await gw.request('POST', `/v1/decisions/${id.review}/answer`, { body: { choice: 'hold' }, headers: A });
    expect(r.status).toBe(202);
    const cmd = await commandOf((r.body['requestIds'] as string[])[0]);
    expect(cmd.data.action).toEqual({ kind: 'answer', decisionId: id.review, choice: 'hold', answeredBy: 'person' });
    expect(cmd).toMatchObject({ correlationid: id.review, subject: id.review });
  });

  it('refuses a choice that is not an option (422), a decision nothing waits on (409) and an unknown one (404); publishes nothing', async () => {
    const before = controls.length;
    const unknownOption = await gw.request('POST', `/v1/decisions/${id.escMerge}/answer`, { body: { choice: 'ship-it' }, headers: A });
    expect(unknownOption.status).toBe(422);
    expect(unknownOption.body).toMatchObject({ error: { code: 'unknown_option', message: containing('merge, hold') } });
    for (const [decisionId, said] of [
      [id.answered, 'is resolved (by human)'],
      [id.appReviewed, 'and reviewed'],
      [id.timedOut, 'is timed_out'],
      [id.pending, 'is pending'],
    ] as const) {
      const choice = decisionId === id.pending ? 'yes' : 'hold';
      const r = await gw.request('POST', `/v1/decisions/${decisionId}/answer`, { body: { choice }, headers: A });
      expect(r.status, said).toBe(409);
      expect(r.body).toMatchObject({ error: { code: 'decision_closed', message: containing(said) } });
    }
    expect((await gw.request('POST', `/v1/decisions/${randomUUID()}/answer`, { body: { choice: 'hold' }, headers: A })).status).toBe(404);
    await settle();
    expect(controls.slice(before)).toEqual([]);
  });

  it('refuses bad bodies with 400 and the zod issues', async () => {
    for (const [body, issue] of [
      [undefined, 'choice'],
      [{}, 'choice'],
      [{ choice: '' }, 'choice'],
      [{ choice: 'x'.repeat(101) }, 'choice'],
      [{ choice: 'hold', answeredBy: '' }, 'answeredBy'],
      [{ choice: 'hold', answeredBy: 'x'.repeat(201) }, 'answeredBy'],
      [{ choice: 'hold', tenantId: 'globex' }, ''],
      [['hold'], ''],
    ] as const) {
      const r = await gw.request('POST', `/v1/decisions/${id.escMerge}/answer`, { headers: A, ...(body !== undefined ? { body } : {}) });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body).toMatchObject({ error: { code: 'invalid_request' } });
      expect(issuesOf(r), JSON.stringify(body)).toContain(issue);
    }
  });

  it("another tenant's key cannot answer this tenant's decisions: 404, nothing on the bus, the rows unchanged", async () => {
    const rows = await acmeRows();
    const before = controls.length;
    for (const decisionId of [id.escMerge, id.escCritical, id.review, id.appEsc, id.openEsc]) {
      const choice = decisionId === id.escCritical ? 'run' : 'merge';
      const r = await gw.request('POST', `/v1/decisions/${decisionId}/answer`, { body: { choice, answeredBy: 'mallory' }, headers: B });
      expect(r.status, decisionId).toBe(404);
      expect(r.body).toMatchObject({ error: { code: 'not_found' } });
    }
    // Not even the checks that come after the lookup tell B anything: an unknown option is still 404.
    expect((await gw.request('POST', `/v1/decisions/${id.escMerge}/answer`, { body: { choice: 'ship-it' }, headers: B })).status).toBe(404);
    await settle();
    expect(controls.slice(before)).toEqual([]);
    expect(await acmeRows()).toEqual(rows);

    const own = await gw.request('POST', `/v1/decisions/${id.bxEsc}/answer`, { body: { choice: 'merge' }, headers: B });
    expect(own.status).toBe(202);
    expect((await commandOf((own.body['requestIds'] as string[])[0])).data).toMatchObject({ tenantId: 'globex', action: { decisionId: id.bxEsc } });
    expect((await gw.request('POST', `/v1/decisions/${id.bxEsc}/answer`, { body: { choice: 'merge' }, headers: A })).status).toBe(404);
  });
});

describe('POST /v1/escalations/batches/:id/answers', () => {
  it('answers the chosen decisions of a batch: 202 with a request id each, in order, each on the bus', async () => {
    const r = await gw.request('POST', `/v1/escalations/batches/${id.batch}/answers`, {
      body: { answers: [{ decisionId: id.escCritical, choice: 'skip' }, { decisionId: id.escMerge, choice: 'merge' }], answeredBy: 'ada' },
      headers: A,
    });
    expect(r.status).toBe(202);
    const requestIds = r.body['requestIds'] as string[];
    expect(requestIds).toEqual([uuid, uuid]);
    const cmds = await Promise.all(requestIds.map(commandOf));
    expect(cmds.map((c) => c.data.action)).toEqual([
      { kind: 'answer', decisionId: id.escCritical, choice: 'skip', answeredBy: 'ada' },
      { kind: 'answer', decisionId: id.escMerge, choice: 'merge', answeredBy: 'ada' },
    ]);
    expect(cmds.every((c) => c.data.tenantId === 'acme' && c.tenantid === 'acme')).toBe(true);
    // The same answer through the decision route is the same request.
    const single = await gw.request('POST', `/v1/decisions/${id.escMerge}/answer`, { body: { choice: 'merge', answeredBy: 'ada' }, headers: A });
    expect(single.body).toEqual({ requestIds: [requestIds[1]] });
  });

  it('approves all: each escalation takes its proposal, each review keeps the engine\'s choice; a done review is left out', async () => {
    const r = await gw.request('POST', `/v1/escalations/batches/${id.approvable}/answers`, { body: { approveAll: true }, headers: A });
    expect(r.status).toBe(202);
    const requestIds = r.body['requestIds'] as string[];
    expect(requestIds).toHaveLength(2);
    // In no particular order: the batch's decisions are read unordered.
    const cmds = await Promise.all(requestIds.map(commandOf));
    expect(cmds.map((c) => c.data.action)).toEqual(
      expect.arrayContaining([
        { kind: 'answer', decisionId: id.appEsc, choice: 'merge', answeredBy: 'person' },
        { kind: 'answer', decisionId: id.appReview, choice: 'hold', answeredBy: 'person' },
      ]),
    );
  });

  it('refuses approve-all when an escalation has no proposal, a decision of another batch (422), a closed one (409), an unknown batch (404); a refused request sends none of its answers', async () => {
    const before = controls.length;
    const noProposal = await gw.request('POST', `/v1/escalations/batches/${id.batch}/answers`, { body: { approveAll: true }, headers: A });
    expect(noProposal.status).toBe(422);
    expect(noProposal.body).toMatchObject({ error: { code: 'no_proposal', message: containing(id.escCritical) } });
    const elsewhere = await gw.request('POST', `/v1/escalations/batches/${id.batch}/answers`, { body: { answers: [{ decisionId: id.appEsc, choice: 'merge' }] }, headers: A });
    expect(elsewhere.status).toBe(422);
    expect(elsewhere.body).toMatchObject({ error: { code: 'not_in_batch', message: containing(id.appEsc) } });
    const badOption = await gw.request('POST', `/v1/escalations/batches/${id.batch}/answers`, { body: { answers: [{ decisionId: id.escMerge, choice: 'run' }] }, headers: A });
    expect(badOption.status).toBe(422);
    expect(badOption.body).toMatchObject({ error: { code: 'unknown_option' } });
    const closed = await gw.request('POST', `/v1/escalations/batches/${id.batch}/answers`, { body: { answers: [{ decisionId: id.answered, choice: 'merge' }] }, headers: A });
    expect(closed.status).toBe(409);
    expect(closed.body).toMatchObject({ error: { code: 'decision_closed' } });
    // A valid answer before a refused one is not sent either: the request is refused whole. (No test sends
    // the review's 'merge', so JetStream's duplicate window would not hide it.)
    const validThenBad = await gw.request('POST', `/v1/escalations/batches/${id.batch}/answers`, {
      body: { answers: [{ decisionId: id.review, choice: 'merge' }, { decisionId: id.answered, choice: 'merge' }] },
      headers: A,
    });
    expect(validThenBad.status).toBe(409);
    const validThenBadOption = await gw.request('POST', `/v1/escalations/batches/${id.batch}/answers`, {
      body: { answers: [{ decisionId: id.review, choice: 'merge' }, { decisionId: id.escMerge, choice: 'run' }] },
      headers: A,
    });
    expect(validThenBadOption.status).toBe(422);
    const unknown = await gw.request('POST', `/v1/escalations/batches/${randomUUID()}/answers`, { body: { approveAll: true }, headers: A });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ error: { code: 'not_found' } });
    await settle();
    expect(controls.slice(before)).toEqual([]);
  });

  it('refuses bad bodies with 400 and the zod issues', async () => {
    const either = 'give either answers or approveAll: true';
    for (const [body, issue] of [
      [undefined, ''],
      [{}, ''],
      [{ answers: [{ decisionId: id.escMerge, choice: 'merge' }], approveAll: true }, ''],
      [{ approveAll: false }, 'approveAll'],
      [{ answers: [{ decisionId: id.escMerge }] }, 'answers.0.choice'],
      [{ answers: [{ decisionId: '', choice: 'merge' }] }, 'answers.0.decisionId'],
      [{ answers: [{ decisionId: id.escMerge, choice: 'merge', tenantId: 'globex' }] }, 'answers.0'],
      [{ answers: Array.from({ length: 201 }, () => ({ decisionId: id.escMerge, choice: 'merge' })) }, 'answers'],
      [{ approveAll: true, answeredBy: '' }, 'answeredBy'],
      [{ approveAll: true, recipient: 'ada' }, ''],
    ] as const) {
      const label = JSON.stringify(body ?? 'no body').slice(0, 80);
      const r = await gw.request('POST', `/v1/escalations/batches/${id.batch}/answers`, { headers: A, ...(body !== undefined ? { body } : {}) });
      expect(r.status, label).toBe(400);
      expect(r.body).toMatchObject({ error: { code: 'invalid_request' } });
      expect(issuesOf(r), label).toContain(issue);
    }
    const both = await gw.request('POST', `/v1/escalations/batches/${id.batch}/answers`, { body: { answers: [], approveAll: true }, headers: A });
    expect(both.body).toMatchObject({ error: { issues: [expect.objectContaining({ message: either })] } });
  });

  it("another tenant's key cannot answer this tenant's batches, nor reach its decisions through its own batch; nothing changes", async () => {
    const rows = await acmeRows();
    const before = controls.length;
    for (const batchId of [id.batch, id.approvable, id.openBatch]) {
      const all = await gw.request('POST', `/v1/escalations/batches/${batchId}/answers`, { body: { approveAll: true, answeredBy: 'mallory' }, headers: B });
      expect(all.status, batchId).toBe(404);
      expect(all.body).toMatchObject({ error: { code: 'not_found' } });
    }
    const chosen = await gw.request('POST', `/v1/escalations/batches/${id.batch}/answers`, { body: { answers: [{ decisionId: id.escMerge, choice: 'merge' }] }, headers: B });
    expect(chosen.status).toBe(404);
    const smuggled = await gw.request('POST', `/v1/escalations/batches/${id.bxBatch}/answers`, { body: { answers: [{ decisionId: id.escMerge, choice: 'merge' }] }, headers: B });
    expect(smuggled.status).toBe(422);
    expect(smuggled.body).toMatchObject({ error: { code: 'not_in_batch' } });
    await settle();
    expect(controls.slice(before)).toEqual([]);
    expect(await acmeRows()).toEqual(rows);

    const own = await gw.request('POST', `/v1/escalations/batches/${id.bxBatch}/answers`, { body: { approveAll: true }, headers: B });
    expect(own.status).toBe(202);
    const cmd = await commandOf((own.body['requestIds'] as string[])[0]);
    expect(cmd.data).toMatchObject({ tenantId: 'globex', action: { decisionId: id.bxEsc, choice: 'merge' } });
    expect((await gw.request('POST', `/v1/escalations/batches/${id.bxBatch}/answers`, { body: { approveAll: true }, headers: A })).status).toBe(404);
    expect(controls.filter((c) => c.data.tenantId !== 'acme' && ACME_IDS.has(targetOf(c)))).toEqual([]);
  });
});

describe('learned preferences', () => {
  it("lists the tenant's preferences by decision type, then oldest first", async () => {
    const r = await gw.request('GET', '/v1/escalations/preferences', { headers: A });
    expect(r.status).toBe(200);
    const prefs = r.body['preferences'] as { id: string }[];
    expect(prefs.map((p) => p.id)).toEqual([pref.other, pref.active, pref.revoked]);
    expect(prefs[1]).toEqual({
      id: pref.active,
      type: 'deploy.merge',
      condition: 'repo=acme/api',
      choice: 'merge',
      status: 'active',
      support: 12,
      agreement: 0.95,
      lowerBound: 0.81,
      createdAt: at(100).toISOString(),
      updatedAt: at(100).toISOString(),
    });
    expect(prefs[2]).toMatchObject({ condition: '*', status: 'revoked', statusReason: 'revoked by ada' });
  });

  it('revokes one: 202, escalation.control.v1 on the bus; an already revoked one is 409, an unknown one 404', async () => {
    const r = await gw.request('POST', `/v1/escalations/preferences/${pref.active}/revoke`, { body: { by: 'ada' }, headers: A });
    expect(r.status).toBe(202);
    expect(r.body).toEqual({ preferenceId: pref.active, requestId: uuid });
    const cmd = await commandOf(r.body['requestId']);
    expect(cmd.data).toEqual({ requestId: r.body['requestId'], tenantId: 'acme', action: { kind: 'revoke_preference', preferenceId: pref.active, by: 'ada' } });
    expect(cmd).toMatchObject({ type: 'steward.escalation.control.v1', tenantid: 'acme', correlationid: pref.active, id: r.body['requestId'] });

    const bare = await gw.request('POST', `/v1/escalations/preferences/${pref.other}/revoke`, { headers: A });
    expect(bare.status).toBe(202);
    expect((await commandOf(bare.body['requestId'])).data.action).toEqual({ kind: 'revoke_preference', preferenceId: pref.other, by: 'person' });

    const before = controls.length;
    const revoked = await gw.request('POST', `/v1/escalations/preferences/${pref.revoked}/revoke`, { headers: A });
    expect(revoked.status).toBe(409);
    expect(revoked.body).toMatchObject({ error: { code: 'already_revoked' } });
    const unknown = await gw.request('POST', '/v1/escalations/preferences/acme:pref_9_z/revoke', { headers: A });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ error: { code: 'not_found' } });
    await settle();
    expect(controls.slice(before)).toEqual([]);
  });

  it('refuses bad bodies with 400 and the zod issues', async () => {
    for (const [body, issue] of [
      [{ by: '' }, 'by'],
      [{ by: 'x'.repeat(201) }, 'by'],
      [{ by: 'ada', reason: 'wrong' }, ''],
      ['"ada"', ''],
    ] as const) {
      const r = await gw.request('POST', `/v1/escalations/preferences/${pref.active}/revoke`, { headers: { ...A, 'content-type': 'application/json' }, body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body).toMatchObject({ error: { code: 'invalid_request' } });
      expect(issuesOf(r), JSON.stringify(body)).toContain(issue);
    }
  });

  it("another tenant's key lists only its own and cannot revoke this tenant's: 404, nothing on the bus, the rows unchanged", async () => {
    const listed = await gw.request('GET', '/v1/escalations/preferences', { headers: B });
    expect((listed.body['preferences'] as { id: string }[]).map((p) => p.id)).toEqual([pref.bx]);
    expect(JSON.stringify(listed.body)).not.toContain('acme');

    const rows = await gw.db.prisma.learnedPreference.findMany({ where: { tenantId: 'acme' }, orderBy: { id: 'asc' } });
    const before = controls.length;
    for (const preferenceId of [pref.active, pref.revoked, pref.other]) {
      const r = await gw.request('POST', `/v1/escalations/preferences/${preferenceId}/revoke`, { body: { by: 'mallory' }, headers: B });
      expect(r.status, preferenceId).toBe(404); // not 409 for the revoked one: B learns nothing about it
      expect(r.body).toMatchObject({ error: { code: 'not_found' } });
    }
    await settle();
    expect(controls.slice(before)).toEqual([]);
    expect(await gw.db.prisma.learnedPreference.findMany({ where: { tenantId: 'acme' }, orderBy: { id: 'asc' } })).toEqual(rows);

    const own = await gw.request('POST', `/v1/escalations/preferences/${pref.bx}/revoke`, { headers: B });
    expect(own.status).toBe(202);
    expect((await commandOf(own.body['requestId'])).data).toMatchObject({ tenantId: 'globex', action: { preferenceId: pref.bx } });
    expect((await gw.request('POST', `/v1/escalations/preferences/${pref.bx}/revoke`, { headers: A })).status).toBe(404);
  });
});

describe('escalation policy', () => {
  const DEFAULTS = EscalationPolicy.parse({});
  const RULES = [{ id: 'prod-deploys', when: { type: 'deploy.*', context: { env: 'prod' } }, action: 'always_escalate' }];

  it('starts at version 0 with the defaults; each PUT stores the next version with the defaults filled in', async () => {
    expect((await gw.request('GET', '/v1/escalations/policy', { headers: A })).body).toEqual({ version: 0, policy: DEFAULTS });

    const first = await gw.request('PUT', '/v1/escalations/policy', { body: { alpha: 0.1, batchSize: 3, rules: RULES }, headers: A });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ version: 1, policy: { ...DEFAULTS, alpha: 0.1, batchSize: 3, rules: RULES } });
    const second = await gw.request('PUT', '/v1/escalations/policy', { body: { mode: 'budget', budget: 0.1 }, headers: A });
    expect(second.body).toEqual({ version: 2, policy: { ...DEFAULTS, mode: 'budget', budget: 0.1 } });

    // Writers at once each get their own version (the unique (tenant, version) refuses a taken one; the loser takes the next).
    const racing = await Promise.all([0.2, 0.3, 0.4].map((alpha) => gw.request('PUT', '/v1/escalations/policy', { body: { alpha }, headers: A })));
    expect(racing.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(racing.map((r) => r.body['version']).sort()).toEqual([3, 4, 5]);
    const last = racing.find((r) => r.body['version'] === 5)!;

    const got = await gw.request('GET', '/v1/escalations/policy', { headers: A });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(last.body);
    const stored = await gw.db.prisma.escalationRuleSet.findMany({ where: { tenantId: 'acme' }, orderBy: { version: 'asc' } });
    expect(stored.map((s) => s.version)).toEqual([1, 2, 3, 4, 5]);
    expect(stored[0]!.rules).toEqual(first.body['policy']);
  });

  it('reads the newest stored version, whoever wrote it', async () => {
    await gw.db.prisma.escalationRuleSet.create({ data: { id: randomUUID(), tenantId: 'acme', version: 9, rules: { ...DEFAULTS, auditRate: 0.5 } } });
    expect((await gw.request('GET', '/v1/escalations/policy', { headers: A })).body).toEqual({ version: 9, policy: { ...DEFAULTS, auditRate: 0.5 } });
    expect((await gw.request('PUT', '/v1/escalations/policy', { body: { auditRate: 0.1 }, headers: A })).body).toMatchObject({ version: 10 });
  });

  it('refuses a bad policy with 400 and the zod issues, storing nothing', async () => {
    const count = await gw.db.prisma.escalationRuleSet.count();
    for (const [body, issue] of [
      [{ mode: 'sometimes' }, 'mode'],
      [{ alpha: 1 }, 'alpha'],
      [{ alpha: 0 }, 'alpha'],
      [{ batchSize: 0 }, 'batchSize'],
      [{ batchSize: 2.5 }, 'batchSize'],
      [{ auditRate: -0.1 }, 'auditRate'],
      [{ rules: [{ id: 'r', when: {}, action: 'sometimes' }] }, 'rules.0.action'],
      [{ rules: [{ id: 'r', when: { tenant: 'globex' }, action: 'always_escalate' }] }, 'rules.0.when'],
      [{ tenantId: 'globex' }, ''],
      [[{ alpha: 0.1 }], ''],
    ] as const) {
      const r = await gw.request('PUT', '/v1/escalations/policy', { body, headers: A });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body).toMatchObject({ error: { code: 'invalid_request' } });
      expect(issuesOf(r), JSON.stringify(body)).toContain(issue);
    }
    expect(await gw.db.prisma.escalationRuleSet.count()).toBe(count);
  });

  it('lists the stored versions newest first, and removes one hard rule as a new version that keeps the rest', async () => {
    const rules = [
      { id: 'no-prod-fridays', when: { type: 'deploy.*', context: { env: 'prod' } }, action: 'always_escalate' },
      { id: 'routine-merges', when: { type: 'pr.merge' }, action: 'never_escalate' },
    ];
    const set = await gw.request('PUT', '/v1/escalations/policy', { body: { alpha: 0.03, rules }, headers: A });
    expect(set.status).toBe(200);
    const v = set.body['version'] as number;

    const removed = await gw.request('DELETE', '/v1/escalations/policy/rules/no-prod-fridays', { headers: A });
    expect(removed.status).toBe(200);
    expect(removed.body).toEqual({ version: v + 1, policy: { ...DEFAULTS, alpha: 0.03, rules: [rules[1]] } });
    expect((await gw.request('GET', '/v1/escalations/policy', { headers: A })).body).toEqual(removed.body);

    // Gone from the newest version: a second removal is 404 and stores nothing; so is an id that never was.
    const stored = await gw.db.prisma.escalationRuleSet.count({ where: { tenantId: 'acme' } });
    for (const ruleId of ['no-prod-fridays', 'never-was']) {
      const r = await gw.request('DELETE', `/v1/escalations/policy/rules/${ruleId}`, { headers: A });
      expect(r.status, ruleId).toBe(404);
      expect(r.body).toMatchObject({ error: { code: 'not_found', message: containing(ruleId) } });
    }
    expect(await gw.db.prisma.escalationRuleSet.count({ where: { tenantId: 'acme' } })).toBe(stored);

    const history = await gw.request('GET', '/v1/escalations/policy/versions?limit=2', { headers: A });
    expect(history.status).toBe(200);
    const versions = history.body['versions'] as { version: number; policy: unknown; createdAt: string }[];
    expect(versions.map((x) => x.version)).toEqual([v + 1, v]);
    expect(versions[0]!.policy).toEqual(removed.body['policy']);
    expect(versions[1]!.policy).toEqual(set.body['policy']);
    expect(Number.isNaN(Date.parse(versions[0]!.createdAt))).toBe(false);
    const all = await gw.request('GET', '/v1/escalations/policy/versions', { headers: A });
    expect((all.body['versions'] as unknown[]).length).toBe(stored);
    for (const bad of ['limit=0', 'limit=201', 'limit=x', 'since=1']) {
      const r = await gw.request('GET', `/v1/escalations/policy/versions?${bad}`, { headers: A });
      expect(r.status, bad).toBe(400);
      expect(r.body).toMatchObject({ error: { code: 'invalid_request' } });
    }
  });

  it("another tenant's key reads its own policy (the defaults) and its PUT starts its own versions, leaving this tenant's as it was", async () => {
    const mine = await gw.request('GET', '/v1/escalations/policy', { headers: A });
    const rows = await gw.db.prisma.escalationRuleSet.findMany({ where: { tenantId: 'acme' }, orderBy: { version: 'asc' } });

    expect((await gw.request('GET', '/v1/escalations/policy', { headers: B })).body).toEqual({ version: 0, policy: DEFAULTS });
    expect((await gw.request('GET', '/v1/escalations/policy/versions', { headers: B })).body).toEqual({ versions: [] });
    // This tenant's rule is not the other's to remove: 404, nothing stored.
    const acmeRule = (mine.body['policy'] as { rules: { id: string }[] }).rules[0]?.id ?? 'routine-merges';
    expect((await gw.request('DELETE', `/v1/escalations/policy/rules/${acmeRule}`, { headers: B })).status).toBe(404);
    const put = await gw.request('PUT', '/v1/escalations/policy', { body: { alpha: 0.5, allowCritical: true }, headers: B });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ version: 1, policy: { ...DEFAULTS, alpha: 0.5, allowCritical: true } });
    expect((await gw.request('GET', '/v1/escalations/policy', { headers: B })).body).toEqual(put.body);

    expect((await gw.request('GET', '/v1/escalations/policy', { headers: A })).body).toEqual(mine.body);
    expect(await gw.db.prisma.escalationRuleSet.findMany({ where: { tenantId: 'acme' }, orderBy: { version: 'asc' } })).toEqual(rows);
    expect(await gw.db.prisma.escalationRuleSet.findMany({ where: { tenantId: 'globex' }, select: { version: true, rules: true } })).toEqual([{ version: 1, rules: put.body['policy'] }]);
  });
});

describe('keys and scopes', () => {
  it('every escalation route needs a key (401); a read key reads but cannot answer, revoke or set the policy (403); an answer key cannot set the policy', async () => {
    const routes: [string, string, Body?][] = [
      ['GET', '/v1/escalations/batches'],
      ['GET', `/v1/escalations/batches/${id.batch}`],
      ['POST', `/v1/escalations/batches/${id.approvable}/answers`, { approveAll: true }],
      ['GET', '/v1/decisions'],
      ['GET', `/v1/decisions/${id.escMerge}`],
      ['POST', `/v1/decisions/${id.openEsc}/answer`, { choice: 'hold' }],
      ['GET', '/v1/escalations/preferences'],
      ['POST', `/v1/escalations/preferences/${pref.active}/revoke`, {}],
      ['GET', '/v1/escalations/policy'],
      ['PUT', '/v1/escalations/policy', { alpha: 0.01 }],
      ['GET', '/v1/escalations/policy/versions'],
      ['DELETE', '/v1/escalations/policy/rules/routine-merges'],
    ];
    const read = await gw.authFor('acme', ['read']);
    const answer = await gw.authFor('acme', ['answer']);
    const versions = await gw.db.prisma.escalationRuleSet.count({ where: { tenantId: 'acme' } });
    const before = controls.length;
    for (const [method, path, body] of routes) {
      const opts = body ? { body } : {};
      const anonymous = await gw.request(method, path, { headers: { authorization: '' }, ...opts });
      expect(anonymous.status, `anonymous ${method} ${path}`).toBe(401);
      expect(anonymous.body).toMatchObject({ error: { code: 'unauthenticated' } });
      const byReader = await gw.request(method, path, { headers: read, ...opts });
      if (method === 'GET') expect(byReader.status, `read ${method} ${path}`).toBe(200);
      else {
        expect(byReader.status, `read ${method} ${path}`).toBe(403);
        expect(byReader.body).toMatchObject({ error: { code: 'forbidden' } });
      }
    }
    const setPolicy = await gw.request('PUT', '/v1/escalations/policy', { body: { alpha: 0.01 }, headers: answer });
    expect(setPolicy.status).toBe(403);
    expect(setPolicy.body).toMatchObject({ error: { code: 'forbidden', message: containing('"admin"') } });
    await settle();
    expect(controls.slice(before)).toEqual([]);
    expect(await gw.db.prisma.escalationRuleSet.count({ where: { tenantId: 'acme' } })).toBe(versions);

    const answered = await gw.request('POST', `/v1/decisions/${id.openEsc}/answer`, { body: { choice: 'hold' }, headers: answer });
    expect(answered.status).toBe(202);
    await commandOf((answered.body['requestIds'] as string[])[0]);
  });
});
