import { WorkflowDefinition } from '@steward/contracts';
import type { TransactionClient } from '@steward/state';

/** Parsed definitions by row id: a definition is immutable once a run uses it, so it never needs re-reading. */
const parsed = new Map<string, WorkflowDefinition | null>();

/** The parsed definition of a row (null when the stored document is not valid), parsed once per process. */
export function parseDefinitionRow(row: { id: string; definition: unknown }): WorkflowDefinition | null {
  if (parsed.has(row.id)) return parsed.get(row.id)!;
  const r = WorkflowDefinition.safeParse(row.definition);
  if (parsed.size > 10_000) parsed.clear();
  parsed.set(row.id, r.success ? r.data : null);
  return r.success ? r.data : null;
}

/** The parsed definition a run is pinned to. */
export async function pinnedDefinition(tx: TransactionClient, definitionId: string): Promise<WorkflowDefinition> {
  const hit = parsed.get(definitionId);
  if (hit) return hit;
  const def = parseDefinitionRow(await tx.workflowDefinition.findUniqueOrThrow({ where: { id: definitionId }, select: { id: true, definition: true } }));
  if (!def) throw new Error(`definition ${definitionId} is not valid`);
  return def;
}
