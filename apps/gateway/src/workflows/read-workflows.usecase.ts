import { Inject, Injectable } from '@nestjs/common';
import { ServiceRuntime } from '@steward/service-kit';
import type { WorkflowDefinition } from '@steward/state';
import { SYSTEM_TENANT } from '@steward/workflows';
import { ApiError } from '../http/api-error.js';
import type { WorkflowDocumentView, WorkflowListView, WorkflowVersionView, WorkflowVersionsView } from './workflow.dto.js';

type Row = Pick<WorkflowDefinition, 'id' | 'tenantId' | 'name' | 'version' | 'definition' | 'hash' | 'createdAt' | 'firstUsedAt'>;

/**
 * Reads of the definitions a tenant can run: its own and the shared `system` ones. Where both have the same name and
 * version, the tenant's own shadows the shared one (it is the one its tasks run).
 */
@Injectable()
export class ReadWorkflowsUseCase {
  constructor(@Inject(ServiceRuntime) private readonly runtime: ServiceRuntime) {}

  async list(tenantId: string): Promise<WorkflowListView> {
    return { workflows: (await this.visible(tenantId)).map(toVersionView) };
  }

  async versions(tenantId: string, name: string): Promise<WorkflowVersionsView> {
    const rows = await this.visible(tenantId, { name });
    if (rows.length === 0) throw new ApiError(404, 'not_found', `workflow ${name} not found`);
    return { name, versions: rows.map(toVersionView) };
  }

  async get(tenantId: string, name: string, version: number): Promise<WorkflowDocumentView> {
    const [row] = await this.visible(tenantId, { name, version });
    if (!row) throw new ApiError(404, 'not_found', `workflow ${name} version ${version} not found`);
    return { id: row.id, ...toVersionView(row), hash: row.hash, definition: row.definition };
  }

  /** Visible rows, own before shared for the same name and version, by name then newest version first. */
  private async visible(tenantId: string, where: { name?: string; version?: number } = {}): Promise<Row[]> {
    const rows = await this.runtime.prisma.workflowDefinition.findMany({
      where: { ...where, tenantId: { in: [tenantId, SYSTEM_TENANT] } },
      select: { id: true, tenantId: true, name: true, version: true, definition: true, hash: true, createdAt: true, firstUsedAt: true },
      orderBy: [{ name: 'asc' }, { version: 'desc' }],
    });
    const chosen = new Map<string, Row>();
    for (const r of rows) {
      const key = `${r.name}\u0000${r.version}`;
      const seen = chosen.get(key);
      if (!seen || (seen.tenantId === SYSTEM_TENANT && r.tenantId === tenantId)) chosen.set(key, r);
    }
    return [...chosen.values()]; // Map keeps first-insertion order: still by name, then version
  }
}

function toVersionView(r: Row): WorkflowVersionView {
  const description = (r.definition as { description?: unknown } | null)?.description;
  return {
    name: r.name,
    version: r.version,
    ...(typeof description === 'string' ? { description } : {}),
    tenant: r.tenantId,
    createdAt: r.createdAt.toISOString(),
    ...(r.firstUsedAt ? { firstUsedAt: r.firstUsedAt.toISOString() } : {}),
    inUse: r.firstUsedAt !== null,
  };
}
