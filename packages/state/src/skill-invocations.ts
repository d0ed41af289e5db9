import { makeEvent, type ErrorInfo, type JsonObject, type Requester, type SkillInvocationCompletedV1, type SkillInvocationFailedV1 } from '@steward/contracts';
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

const SKILL_CACHE_MS = 10_000;
const skillCache = new Map<string, { category: string; timeoutMs: number; at: number }>();

async function skillRoute(tx: TransactionClient, name: string): Promise<{ category: string; timeoutMs: number } | undefined> {
  const hit = skillCache.get(name);
  if (hit && Date.now() - hit.at < SKILL_CACHE_MS) return hit;
  const s = await tx.skill.findUnique({ where: { name }, select: { category: true, timeoutMs: true } });
  if (!s) return undefined;
  skillCache.set(name, { ...s, at: Date.now() });
  return s;
}

/**
 * Records a skill invocation attempt and emits the skill.invoke command routed to the skill's category, in the
 * caller's transaction. The invocation id is the idempotency key skills with outside effects must honour.
 */
export async function dispatchSkill({ tx, emit }: UnitOfWorkContext, p: DispatchSkillParams): Promise<DispatchResult> {
  const route = await skillRoute(tx, p.skill);
  if (!route) return { ok: false, error: { code: 'unknown_skill', message: `no skill named "${p.skill}" is registered`, retryable: false } };
  const timeoutMs = p.timeoutMs ?? route.timeoutMs;
  const data = { status: 'pending' as const, attempt: p.attempt, input: json(p.input), startedAt: null, completedAt: null, output: Prisma.DbNull, error: Prisma.DbNull };
  await tx.skillInvocation.upsert({
    where: { id: p.invocationId },
    create: { id: p.invocationId, tenantId: p.tenantId, taskId: p.taskId, stepRunId: p.stepRunId ?? null, skill: p.skill, category: route.category, requester: p.requester, ...data },
    update: data,
  });
  emit(
    makeEvent(
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
        timeoutMs,
      },
      { source: p.source, tenantId: p.tenantId, correlationId: p.taskId, subject: p.invocationId, ...(p.causationId ? { causationId: p.causationId } : {}) },
    ),
  );
  return { ok: true };
}

/**
 * Accepts a skill result only for the invocation's current attempt while it is still open (fencing, durability
 * rule 4): a late or duplicate result of an older attempt changes nothing and returns false.
 */
export async function acceptSkillResult(
  tx: TransactionClient,
  result: ({ kind: 'completed' } & SkillInvocationCompletedV1) | ({ kind: 'failed' } & SkillInvocationFailedV1),
): Promise<boolean> {
  const now = new Date();
  const { count } = await tx.skillInvocation.updateMany({
    where: { id: result.invocationId, attempt: result.attempt, status: { in: ['pending', 'running'] } },
    data:
      result.kind === 'completed'
        ? { status: 'completed', output: json(result.output), completedAt: now }
        : { status: 'failed', error: json(result.error), completedAt: now },
  });
  return count === 1;
}
