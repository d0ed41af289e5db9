import { Inject, Injectable } from '@nestjs/common';
import { EscalationPolicy, makeEvent, VerdictBasis } from '@steward/contracts';
import { ServiceRuntime } from '@steward/service-kit';
import type { Decision, EscalationBatch, Prisma } from '@steward/state';
import { randomUUID } from 'node:crypto';
import { ApiError } from '../http/api-error.js';
import { derivedUuid } from '../http/idempotency.js';
import { publishOr503 } from '../http/publish.js';
import type { AnswerBatchBody, AnswersAccepted, BatchView, DecisionView, PolicyHistoryView, PolicyVersionView } from './escalation.dto.js';

const SOURCE = 'steward/gateway';
const iso = (d: Date | null): string | undefined => d?.toISOString();

function decisionView(d: Decision): DecisionView {
  const resolution = (d.resolution ?? {}) as { choice?: string; verdict?: { basis?: unknown } };
  const basis = VerdictBasis.safeParse(resolution.verdict?.basis);
  const review = d.audit && d.status === 'resolved';
  return {
    id: d.id,
    type: d.type,
    status: d.status,
    options: d.options as DecisionView['options'],
    ...(typeof d.proposal === 'string' ? { proposal: d.proposal } : {}),
    ...(d.score !== null ? { score: d.score } : {}),
    ...(d.threshold !== null ? { threshold: d.threshold } : {}),
    ...(d.policyVersion !== null ? { policyVersion: d.policyVersion } : {}),
    reasons: Array.isArray(d.reasons) ? (d.reasons as string[]) : [],
    ...(basis.success ? { basis: basis.data } : {}),
    context: d.context as Record<string, unknown>,
    review,
    reviewed: d.reviewedAt !== null,
    ...(d.resolvedBy !== null ? { resolvedBy: d.resolvedBy } : {}),
    ...(resolution.choice !== undefined ? { choice: resolution.choice } : {}),
    ...(d.fallback !== null ? { fallback: d.fallback } : {}),
    ...(d.fallbackAt ? { fallbackAt: d.fallbackAt.toISOString() } : {}),
    ...(d.batchId !== null ? { batchId: d.batchId } : {}),
    ...(d.taskId !== null ? { taskId: d.taskId } : {}),
    ...(d.runId !== null ? { runId: d.runId } : {}),
    createdAt: d.createdAt.toISOString(),
    ...(d.resolvedAt ? { resolvedAt: d.resolvedAt.toISOString() } : {}),
  };
}

function batchView(b: EscalationBatch & { decisions: Decision[] }): BatchView {
  return {
    id: b.id,
    recipient: b.recipient,
    status: b.status,
    ...(b.trigger !== null ? { trigger: b.trigger } : {}),
    escalations: b.itemCount,
    createdAt: b.createdAt.toISOString(),
    ...(b.sentAt ? { sentAt: iso(b.sentAt) } : {}),
    ...(b.closedAt ? { closedAt: iso(b.closedAt) } : {}),
    decisions: b.decisions.map(decisionView),
  };
}

const batchDecisions = { decisions: { orderBy: [{ urgency: 'desc' }, { createdAt: 'asc' }] } } satisfies Prisma.EscalationBatchInclude;

/**
 * The person's side of escalation: batches and decisions to read, answers and reviews, learned preferences and the
 * tenant's policy. Reads come from PostgreSQL; answers and revocations are commands for the escalation service,
 * which re-checks them under its lock. Every query is scoped to the caller's tenant.
 */
@Injectable()
export class EscalationsUseCase {
  constructor(@Inject(ServiceRuntime) private readonly runtime: ServiceRuntime) {}

  async listBatches(tenantId: string, status: EscalationBatch['status'], limit: number): Promise<{ batches: BatchView[] }> {
    const rows = await this.runtime.prisma.escalationBatch.findMany({ where: { tenantId, status }, orderBy: { createdAt: 'asc' }, take: limit, include: batchDecisions });
    return { batches: rows.map(batchView) };
  }

  async getBatch(tenantId: string, id: string): Promise<BatchView> {
    const b = await this.runtime.prisma.escalationBatch.findFirst({ where: { id, tenantId }, include: batchDecisions });
    if (!b) throw new ApiError(404, 'not_found', `escalation batch ${id} not found`);
    return batchView(b);
  }

  async getDecision(tenantId: string, id: string): Promise<DecisionView> {
    const d = await this.runtime.prisma.decision.findFirst({ where: { id, tenantId } });
    if (!d) throw new ApiError(404, 'not_found', `decision ${id} not found`);
    return decisionView(d);
  }

  async listDecisions(tenantId: string, q: { status?: Decision['status'] | undefined; type?: string | undefined; limit: number }): Promise<{ decisions: DecisionView[] }> {
    const rows = await this.runtime.prisma.decision.findMany({
      where: { tenantId, ...(q.status ? { status: q.status } : {}), ...(q.type ? { type: q.type } : {}) },
      orderBy: { createdAt: 'desc' },
      take: q.limit,
    });
    return { decisions: rows.map(decisionView) };
  }

  /** Answers one decision: an escalation (it resolves with the choice) or a review of an autonomous one. */
  async answer(tenantId: string, decisionId: string, choice: string, answeredBy: string): Promise<AnswersAccepted> {
    const d = await this.runtime.prisma.decision.findFirst({ where: { id: decisionId, tenantId } });
    if (!d) throw new ApiError(404, 'not_found', `decision ${decisionId} not found`);
    return { requestIds: [await this.publishAnswer(d, choice, answeredBy)] };
  }

  async answerBatch(tenantId: string, batchId: string, body: AnswerBatchBody): Promise<AnswersAccepted> {
    const b = await this.runtime.prisma.escalationBatch.findFirst({ where: { id: batchId, tenantId }, include: { decisions: true } });
    if (!b) throw new ApiError(404, 'not_found', `escalation batch ${batchId} not found`);
    const byId = new Map(b.decisions.map((d) => [d.id, d]));
    const answers: { d: Decision; choice: string }[] = [];
    if (body.approveAll) {
      // Approving a review keeps the engine's choice; approving an escalation takes the agent's proposal.
      for (const d of b.decisions.filter(awaitsPerson)) {
        const choice = (d.resolution as { choice?: string } | null)?.choice ?? (typeof d.proposal === 'string' ? d.proposal : undefined);
        if (choice === undefined) throw new ApiError(422, 'no_proposal', `decision ${d.id} has no proposal to approve; answer it with a choice`);
        answers.push({ d, choice });
      }
    } else {
      for (const a of body.answers ?? []) {
        const d = byId.get(a.decisionId);
        if (!d) throw new ApiError(422, 'not_in_batch', `decision ${a.decisionId} is not in batch ${batchId}`);
        answers.push({ d, choice: a.choice });
      }
    }
    // Every answer is checked before any is sent: a refused request sends nothing.
    for (const a of answers) checkAnswer(a.d, a.choice);
    const requestIds: string[] = [];
    for (const a of answers) requestIds.push(await this.publishAnswer(a.d, a.choice, body.answeredBy));
    return { requestIds };
  }

  async listPreferences(tenantId: string): Promise<{ preferences: unknown[] }> {
    const rows = await this.runtime.prisma.learnedPreference.findMany({ where: { tenantId }, orderBy: [{ decisionType: 'asc' }, { createdAt: 'asc' }] });
    return {
      preferences: rows.map((p) => {
        const attrs = p.attributes as { condition?: string; statusReason?: string };
        return {
          id: p.id,
          type: p.decisionType,
          condition: attrs.condition ?? '*',
          choice: p.choice,
          status: p.status,
          ...(attrs.statusReason ? { statusReason: attrs.statusReason } : {}),
          support: p.evidence,
          agreement: p.agreement,
          lowerBound: p.confidenceLower,
          createdAt: p.createdAt.toISOString(),
          updatedAt: p.updatedAt.toISOString(),
        };
      }),
    };
  }

  async revokePreference(tenantId: string, id: string, by: string): Promise<{ preferenceId: string; requestId: string }> {
    const p = await this.runtime.prisma.learnedPreference.findFirst({ where: { id, tenantId } });
    if (!p) throw new ApiError(404, 'not_found', `preference ${id} not found`);
    if (p.status === 'revoked') throw new ApiError(409, 'already_revoked', `preference ${id} is already revoked`);
    const requestId = derivedUuid('escalation.control.v1', tenantId, 'revoke', id);
    await publishOr503(this.runtime, makeEvent('escalation.control.v1', { requestId, tenantId, action: { kind: 'revoke_preference', preferenceId: id, by } }, { source: SOURCE, tenantId, correlationId: id, id: requestId }));
    return { preferenceId: id, requestId };
  }

  async getPolicy(tenantId: string): Promise<PolicyVersionView> {
    const row = await this.runtime.prisma.escalationRuleSet.findFirst({ where: { tenantId }, orderBy: { version: 'desc' } });
    return row ? { version: row.version, policy: EscalationPolicy.parse(row.rules) } : { version: 0, policy: EscalationPolicy.parse({}) };
  }

  /** Every stored version of the tenant's policy, newest first (at most `limit`): who changed what is in the history. */
  async listPolicyVersions(tenantId: string, limit: number): Promise<PolicyHistoryView> {
    const rows = await this.runtime.prisma.escalationRuleSet.findMany({ where: { tenantId }, orderBy: { version: 'desc' }, take: limit });
    return { versions: rows.map((r) => ({ version: r.version, policy: EscalationPolicy.parse(r.rules), createdAt: r.createdAt.toISOString() })) };
  }

  /** Stores a new version of the tenant's policy; the escalation service uses it from its next decision. */
  async putPolicy(tenantId: string, policy: EscalationPolicy): Promise<PolicyVersionView> {
    return this.storePolicy(tenantId, () => policy);
  }

  /** Stores a new version without the hard rule `ruleId` (404 when the current version has no such rule). */
  async removeRule(tenantId: string, ruleId: string): Promise<PolicyVersionView> {
    return this.storePolicy(tenantId, (current) => {
      if (!current.rules.some((r) => r.id === ruleId)) throw new ApiError(404, 'not_found', `the escalation policy has no rule ${ruleId}`);
      return { ...current, rules: current.rules.filter((r) => r.id !== ruleId) };
    });
  }

  /**
   * Writes the next version, made by `next` from the newest one. When another writer took that version first, the
   * unique (tenant, version) refuses this one and it starts again from the newer version, so edits compose.
   */
  private async storePolicy(tenantId: string, next: (current: EscalationPolicy) => EscalationPolicy): Promise<PolicyVersionView> {
    for (let tries = 0; ; tries++) {
      const latest = await this.getPolicy(tenantId);
      const version = latest.version + 1;
      const policy = next(latest.policy);
      try {
        await this.runtime.prisma.escalationRuleSet.create({ data: { id: randomUUID(), tenantId, version, rules: policy } });
        return { version, policy };
      } catch (err) {
        if (tries >= 3 || (err as { code?: string }).code !== 'P2002') throw err;
      }
    }
  }

  private async publishAnswer(d: Decision, choice: string, answeredBy: string): Promise<string> {
    checkAnswer(d, choice);
    // Same answer, same request: a repeated answer is dropped by JetStream and by the service; the first answer wins.
    const requestId = derivedUuid('escalation.control.v1', d.tenantId, 'answer', d.id, choice);
    await publishOr503(
      this.runtime,
      makeEvent('escalation.control.v1', { requestId, tenantId: d.tenantId, action: { kind: 'answer', decisionId: d.id, choice, answeredBy } }, { source: SOURCE, tenantId: d.tenantId, correlationId: d.taskId ?? d.id, subject: d.id, id: requestId }),
    );
    return requestId;
  }
}

/** An escalation waiting for its answer, or an autonomous decision waiting for its review. */
const awaitsPerson = (d: Decision): boolean => d.status === 'escalated' || (d.status === 'resolved' && d.audit && d.reviewedAt === null);

/** Refuses an answer that names no option of the decision (422) or comes when the decision no longer awaits one (409). */
function checkAnswer(d: Decision, choice: string): void {
  const options = d.options as { id: string }[];
  if (!options.some((o) => o.id === choice)) throw new ApiError(422, 'unknown_option', `"${choice}" is not an option of decision ${d.id}: ${options.map((o) => o.id).join(', ')}`);
  if (!awaitsPerson(d)) throw new ApiError(409, 'decision_closed', `decision ${d.id} is ${d.status}${d.resolvedBy ? ` (by ${d.resolvedBy})` : ''}${d.audit && d.reviewedAt ? ', and reviewed' : ''}: nothing to answer`);
}
