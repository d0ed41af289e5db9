import type { DecisionRequestedV1, Envelope } from '@steward/contracts';
import { json, type UnitOfWorkContext } from '@steward/state';

/**
 * decision.requested → a pending decision awaiting a person. Scoring, autonomy and batching come with the
 * escalation engine; until then nothing is decided silently: every decision waits for an answer.
 */
export async function recordDecision({ tx }: UnitOfWorkContext, event: Envelope<DecisionRequestedV1>): Promise<void> {
  const d = event.data;
  await tx.decision.upsert({
    where: { id: d.decisionId },
    create: {
      id: d.decisionId,
      tenantId: d.tenantId,
      taskId: d.taskId ?? null,
      runId: d.runId ?? null,
      stepRunId: d.stepRunId ?? null,
      type: d.type,
      options: json(d.options),
      ...(d.proposal !== undefined ? { proposal: json(d.proposal) } : {}),
      context: json(d.context),
      status: 'escalated',
      reasons: json(['no autonomy policy is configured yet: every decision is escalated']),
    },
    update: {},
  });
}
