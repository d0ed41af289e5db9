// Skill outputs too large for the bus: the skill-worker stores each once (keyed by invocation and attempt, so a
// re-run after a crash stores nothing new) and publishes a reference; the requester reads it in its transaction.
import type { OutputRef } from '@steward/contracts';
import { createHash } from 'node:crypto';
import type { SqlClient } from './sql-client.js';

/** The output as JSON text and, when it exceeds `maxInlineBytes`, the reference it would be stored under. */
export function outputRefFor(id: string, json: string, maxInlineBytes: number): OutputRef | undefined {
  const bytes = Buffer.byteLength(json);
  return bytes > maxInlineBytes ? { id, bytes, sha256: createHash('sha256').update(json).digest('hex') } : undefined;
}

export async function storeSkillOutput(db: SqlClient, tenantId: string, ref: OutputRef, json: string): Promise<void> {
  await db.$executeRaw`
    INSERT INTO skill_outputs (id, tenant_id, bytes, sha256, body) VALUES (${ref.id}, ${tenantId}, ${ref.bytes}, ${ref.sha256}, ${json}::jsonb)
    ON CONFLICT (id) DO NOTHING`;
}

/** The stored outputs of these references, by id; a missing one is an error (it was stored before it was published). */
export async function loadSkillOutputs(tx: SqlClient, refs: readonly OutputRef[]): Promise<Map<string, unknown>> {
  if (refs.length === 0) return new Map();
  const rows = await tx.$queryRaw<{ id: string; body: unknown }[]>`SELECT id, body FROM skill_outputs WHERE id = ANY(${refs.map((r) => r.id)}::text[])`;
  const out = new Map(rows.map((r) => [r.id, r.body]));
  for (const r of refs) if (!out.has(r.id)) throw new Error(`skill output ${r.id} is referenced but not stored`);
  return out;
}
