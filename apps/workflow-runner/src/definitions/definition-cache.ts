import type { SqlClient } from '@steward/state';
import { compileDefinition, SYSTEM_TENANT, type CompiledWorkflow } from '@steward/workflows';

/**
 * Compiled definitions by row id and hash. A run pins its definition row, and a row is immutable once a run uses
 * it, so a compiled definition never needs re-reading; the hash guards the window before first use.
 */
const compiled = new Map<string, CompiledWorkflow>();
const MAX_CACHED = 5_000;

function compileRow(row: { id: string; hash: string; definition: unknown }): CompiledWorkflow {
  const key = `${row.id}:${row.hash}`;
  const hit = compiled.get(key);
  if (hit) return hit;
  const r = compileDefinition(row.definition);
  if (!r.ok) throw new Error(`stored definition ${row.id} does not compile: ${r.issues.map((i) => i.message).join('; ')}`);
  if (compiled.size >= MAX_CACHED) compiled.clear();
  compiled.set(key, r.workflow);
  return r.workflow;
}

const byId = new Map<string, string>();

/** The compiled definition a run is pinned to. */
export async function compiledDefinition(tx: SqlClient, definitionId: string): Promise<CompiledWorkflow> {
  const hash = byId.get(definitionId);
  const hit = hash && compiled.get(`${definitionId}:${hash}`);
  if (hit) return hit;
  const [row] = await tx.$queryRaw<{ id: string; hash: string; definition: unknown }[]>`SELECT id, hash, definition FROM workflow_definitions WHERE id = ${definitionId}`;
  if (!row) throw new Error(`workflow definition ${definitionId} does not exist`);
  byId.set(row.id, row.hash);
  return compileRow(row);
}

/**
 * The definition a new run of `name` (at `version`, or the highest) pins, the tenant's own before the shared one;
 * undefined when there is none or it no longer compiles.
 */
export async function resolveDefinition(tx: SqlClient, tenantId: string, name: string, version?: number): Promise<{ id: string; def: CompiledWorkflow } | undefined> {
  const pinned = version ? version : null; // no version (or 0): the highest
  const rows = await tx.$queryRaw<{ id: string; tenantId: string; version: number; hash: string; definition: unknown; firstUsedAt: Date | null }[]>`
    SELECT id, tenant_id AS "tenantId", version, hash, definition, first_used_at AS "firstUsedAt" FROM workflow_definitions
     WHERE name = ${name} AND tenant_id = ANY(${[tenantId, SYSTEM_TENANT]}::text[]) AND (${pinned}::int IS NULL OR version = ${pinned}::int)
     ORDER BY version DESC`;
  const top = rows[0]?.version;
  const row = rows.find((r) => r.version === top && r.tenantId === tenantId) ?? rows.find((r) => r.version === top);
  if (!row) return undefined;
  try {
    const def = compileRow(row);
    if (!row.firstUsedAt) await tx.$executeRaw`UPDATE workflow_definitions SET first_used_at = now() WHERE id = ${row.id} AND first_used_at IS NULL`;
    byId.set(row.id, row.hash);
    return { id: row.id, def };
  } catch {
    return undefined;
  }
}
