import { makeEvent, type ErrorInfo, type JsonObject, type OutgoingEvent, type Requester, type SkillInvocationCompletedV1, type SkillInvocationFailedV1 } from '@steward/contracts';
import type { TransactionClient } from './client.js';
import { json } from './errors.js';
import { Prisma } from './generated/prisma/client.js';
import type { UnitOfWorkContext } from './outbox/unit-of-work.js';

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
  source: string;
  causationId?: string;
}

export type DispatchResult = { ok: true } | { ok: false; error: ErrorInfo };

interface SkillRoute {
  category: string;
  timeoutMs: number;
}

const SKILL_CACHE_MS = 10_000;
const skillCache = new Map<string, SkillRoute & { at: number }>();

/** Category and timeout of each named skill (cached briefly: the catalogue changes when workers deploy). */
async function skillRoutes(tx: TransactionClient, names: string[]): Promise<Map<string, SkillRoute>> {
  const out = new Map<string, SkillRoute>();
  const missing: string[] = [];
  for (const name of new Set(names)) {
    const hit = skillCache.get(name);
    if (hit && Date.now() - hit.at < SKILL_CACHE_MS) out.set(name, hit);
    else missing.push(name);
  }
  if (missing.length > 0) {
    for (const s of await tx.skill.findMany({ where: { name: { in: missing } }, select: { name: true, category: true, timeoutMs: true } })) {
      skillCache.set(s.name, { category: s.category, timeoutMs: s.timeoutMs, at: Date.now() });
      out.set(s.name, s);
    }
  }
  return out;
}

const unknownSkill = (skill: string): ErrorInfo => ({ code: 'unknown_skill', message: `no skill named "${skill}" is registered`, retryable: false });

function invokeEvent(p: DispatchSkillParams, route: SkillRoute): OutgoingEvent {
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
    },
    { source: p.source, tenantId: p.tenantId, correlationId: p.taskId, subject: p.invocationId, ...(p.causationId ? { causationId: p.causationId } : {}) },
  );
}

/**
 * Records first attempts of new skill invocations and emits their skill.invoke commands, routed to each skill's
 * category, in the caller's transaction (one insert for all). Returns the ones whose skill is unknown.
 */
export async function dispatchNewSkills(ctx: UnitOfWorkContext, params: DispatchSkillParams[]): Promise<{ params: DispatchSkillParams; error: ErrorInfo }[]> {
  if (params.length === 0) return [];
  const routes = await skillRoutes(ctx.tx, params.map((p) => p.skill));
  const failures: { params: DispatchSkillParams; error: ErrorInfo }[] = [];
  const rows: Prisma.SkillInvocationCreateManyInput[] = [];
  const now = new Date();
  for (const p of params) {
    const route = routes.get(p.skill);
    if (!route) {
      failures.push({ params: p, error: unknownSkill(p.skill) });
      continue;
    }
    rows.push({ id: p.invocationId, tenantId: p.tenantId, taskId: p.taskId, stepRunId: p.stepRunId ?? null, skill: p.skill, category: route.category, requester: p.requester, status: 'pending', attempt: p.attempt, input: json(p.input), dispatchedAt: now });
    ctx.emit(invokeEvent(p, route));
  }
  if (rows.length > 0) await ctx.tx.skillInvocation.createMany({ data: rows });
  return failures;
}

/**
 * Records an attempt of a skill invocation (a first one or a retry: the row is reset) and emits its skill.invoke.
 * The invocation id is the idempotency key skills with outside effects must honour.
 */
export async function dispatchSkill(ctx: UnitOfWorkContext, p: DispatchSkillParams): Promise<DispatchResult> {
  const route = (await skillRoutes(ctx.tx, [p.skill])).get(p.skill);
  if (!route) return { ok: false, error: unknownSkill(p.skill) };
  const data = { status: 'pending' as const, attempt: p.attempt, input: json(p.input), startedAt: null, completedAt: null, output: Prisma.DbNull, error: Prisma.DbNull, dispatchedAt: new Date() };
  await ctx.tx.skillInvocation.upsert({
    where: { id: p.invocationId },
    create: { id: p.invocationId, tenantId: p.tenantId, taskId: p.taskId, stepRunId: p.stepRunId ?? null, skill: p.skill, category: route.category, requester: p.requester, ...data },
    update: data,
  });
  ctx.emit(invokeEvent(p, route));
  return { ok: true };
}

/**
 * Accepts skill results only for each invocation's current attempt while it is still open (fencing, durability
 * rule 4): a late or duplicate result of an older attempt changes nothing. Returns the accepted invocation ids.
 */
export async function acceptSkillResults(
  tx: TransactionClient,
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
export async function acceptSkillResult(tx: TransactionClient, result: Parameters<typeof acceptSkillResults>[1][number]): Promise<boolean> {
  return (await acceptSkillResults(tx, [result])).has(result.invocationId);
}
