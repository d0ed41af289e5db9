import { makeEvent, type ErrorInfo, type JsonObject, type OutgoingEvent, type Requester, type SkillInvocationCompletedV1, type SkillInvocationFailedV1 } from '@steward/contracts';
import { outboxInsert, type UnitOfWorkContext } from './outbox/unit-of-work.js';
import type { SqlClient } from './sql-client.js';

export interface DispatchSkillParams {
  invocationId: string;
  tenantId: string;
  taskId: string;
  stepRunId?: string;
  requester: Requester;
  skill: string;
  input: JsonObject;
  attempt: number;
  /** Overrides the skill's registered timeout. */
  timeoutMs?: number;
  /** Ask the worker for started/heartbeat reports this often. */
  heartbeatMs?: number;
  source: string;
  causationId?: string;
}

export type DispatchResult = { ok: true } | { ok: false; error: ErrorInfo };

export interface SkillRoute {
  category: string;
  timeoutMs: number;
}

const SKILL_CACHE_MS = 10_000;
const skillCache = new Map<string, SkillRoute & { at: number }>();

/** Category and timeout of each named skill (cached briefly: the catalogue changes when workers deploy). */
export async function skillRoutes(tx: SqlClient, names: readonly string[]): Promise<Map<string, SkillRoute>> {
  const out = new Map<string, SkillRoute>();
  const missing: string[] = [];
  for (const name of new Set(names)) {
    const hit = skillCache.get(name);
    if (hit && Date.now() - hit.at < SKILL_CACHE_MS) out.set(name, hit);
    else missing.push(name);
  }
  if (missing.length > 0) {
    const found = await tx.$queryRaw<{ name: string; category: string; timeoutMs: number }[]>`
      SELECT name, category, timeout_ms AS "timeoutMs" FROM skills WHERE name = ANY(${missing}::text[])`;
    for (const s of found) {
      skillCache.set(s.name, { category: s.category, timeoutMs: s.timeoutMs, at: Date.now() });
      out.set(s.name, s);
    }
  }
  return out;
}

const unknownSkill = (skill: string): ErrorInfo => ({ code: 'unknown_skill', message: `no skill named "${skill}" is registered`, retryable: false });

/** The skill.invoke command of one attempt, routed to the skill's category. */
export function skillInvokeEvent(p: DispatchSkillParams, route: SkillRoute): OutgoingEvent {
  return makeEvent(
    'skill.invoke.v1',
    {
      invocationId: p.invocationId,
      tenantId: p.tenantId,
      taskId: p.taskId,
      ...(p.stepRunId ? { stepRunId: p.stepRunId } : {}),
      requester: p.requester,
      skill: p.skill,
      category: route.category,
      attempt: p.attempt,
      idempotencyKey: p.invocationId,
      input: p.input,
      timeoutMs: p.timeoutMs ?? route.timeoutMs,
      ...(p.heartbeatMs ? { heartbeatMs: p.heartbeatMs } : {}),
    },
    { source: p.source, tenantId: p.tenantId, correlationId: p.taskId, subject: p.invocationId, ...(p.causationId ? { causationId: p.causationId } : {}) },
  );
}

/**
 * Records attempts of skill invocations (a first attempt inserts the row, a retry resets it) and emits their
 * skill.invoke commands, routed to each skill's category, in the caller's transaction: one statement for all, which
 * also writes the outbox rows of every event emitted so far in the transaction.
 * The invocation id is the idempotency key skills with outside effects must honour. Returns the ones whose skill
 * is unknown (nothing is recorded or emitted for those).
 */
export async function dispatchSkills(ctx: UnitOfWorkContext<SqlClient>, params: readonly DispatchSkillParams[]): Promise<{ params: DispatchSkillParams; error: ErrorInfo }[]> {
  if (params.length === 0) return [];
  const routes = await skillRoutes(ctx.tx, params.map((p) => p.skill));
  const failures: { params: DispatchSkillParams; error: ErrorInfo }[] = [];
  const rows: { p: DispatchSkillParams; route: SkillRoute }[] = [];
  for (const p of params) {
    const route = routes.get(p.skill);
    if (route) rows.push({ p, route });
    else failures.push({ params: p, error: unknownSkill(p.skill) });
  }
  if (rows.length === 0) return failures;
  const col = <T>(f: (r: { p: DispatchSkillParams; route: SkillRoute }) => T): T[] => rows.map(f);
  for (const r of rows) ctx.emit(skillInvokeEvent(r.p, r.route));
  // The invocations and every event emitted so far in this transaction (their commands included) in one statement.
  await ctx.tx.$executeRaw`
    WITH dispatched AS (
    INSERT INTO skill_invocations (id, tenant_id, task_id, step_run_id, skill, category, requester, status, attempt, input, dispatched_at)
    SELECT v.id, v.tenant_id, v.task_id, v.step_run_id, v.skill, v.category, v.requester, 'pending', v.attempt, v.input::jsonb, now()
      FROM unnest(${col((r) => r.p.invocationId)}::text[], ${col((r) => r.p.tenantId)}::text[], ${col((r) => r.p.taskId)}::text[], ${col((r) => r.p.stepRunId ?? null)}::text[],
                  ${col((r) => r.p.skill)}::text[], ${col((r) => r.route.category)}::text[], ${col((r) => r.p.requester)}::text[], ${col((r) => r.p.attempt)}::int[],
                  ${col((r) => JSON.stringify(r.p.input))}::text[]) AS v(id, tenant_id, task_id, step_run_id, skill, category, requester, attempt, input)
    ON CONFLICT (id) DO UPDATE SET status = 'pending', attempt = EXCLUDED.attempt, input = EXCLUDED.input, started_at = NULL, completed_at = NULL,
                                   output = NULL, error = NULL, dispatched_at = EXCLUDED.dispatched_at)
    ${outboxInsert(ctx.takeOutbox())}`;
  return failures;
}

/** First attempts of new invocations (the form the orchestrator uses for a batch of tasks). */
export const dispatchNewSkills = dispatchSkills;

/** One attempt of one invocation. */
export async function dispatchSkill(ctx: UnitOfWorkContext<SqlClient>, p: DispatchSkillParams): Promise<DispatchResult> {
  const [failure] = await dispatchSkills(ctx, [p]);
  return failure ? { ok: false, error: failure.error } : { ok: true };
}

/** Marks open invocations cancelled and tells the workers running them to stop. */
export async function cancelSkillInvocations(ctx: UnitOfWorkContext<SqlClient>, items: readonly { invocationId: string; tenantId: string; taskId: string; reason: string; source: string; causationId?: string }[]): Promise<void> {
  if (items.length === 0) return;
  await ctx.tx.$executeRaw`
    UPDATE skill_invocations SET status = 'cancelled', completed_at = now()
     WHERE id = ANY(${items.map((i) => i.invocationId)}::text[]) AND status IN ('pending', 'running')`;
  for (const i of items) {
    ctx.emit(makeEvent('skill.invocation.cancel.v1', { invocationId: i.invocationId, tenantId: i.tenantId, reason: i.reason }, { source: i.source, tenantId: i.tenantId, correlationId: i.taskId, subject: i.invocationId, ...(i.causationId ? { causationId: i.causationId } : {}) }));
  }
}

/**
 * Accepts skill results only for each invocation's current attempt while it is still open (fencing, durability
 * rule 4): a late or duplicate result of an older attempt changes nothing. Returns the accepted invocation ids.
 */
export async function acceptSkillResults(
  tx: SqlClient,
  results: ((({ kind: 'completed' } & SkillInvocationCompletedV1) | ({ kind: 'failed' } & SkillInvocationFailedV1)))[],
): Promise<Set<string>> {
  if (results.length === 0) return new Set();
  const rows = await tx.$queryRaw<{ id: string }[]>`
    UPDATE skill_invocations AS si
       SET status = v.status::skill_invocation_status, output = v.output::jsonb, error = v.error::jsonb, completed_at = now()
      FROM unnest(${results.map((r) => r.invocationId)}::text[], ${results.map((r) => r.attempt)}::int[], ${results.map((r) => r.kind)}::text[],
                  ${results.map((r) => (r.kind === 'completed' ? JSON.stringify(r.output ?? null) : null))}::text[],
                  ${results.map((r) => (r.kind === 'failed' ? JSON.stringify(r.error) : null))}::text[]) AS v(id, attempt, status, output, error)
     WHERE si.id = v.id AND si.attempt = v.attempt AND si.status IN ('pending', 'running')
    RETURNING si.id`;
  return new Set(rows.map((r) => r.id));
}

/** Single-result form of acceptSkillResults. */
export async function acceptSkillResult(tx: SqlClient, result: Parameters<typeof acceptSkillResults>[1][number]): Promise<boolean> {
  return (await acceptSkillResults(tx, [result])).has(result.invocationId);
}
