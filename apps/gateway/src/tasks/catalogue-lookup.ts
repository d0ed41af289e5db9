import { Inject, Injectable } from '@nestjs/common';
import { ServiceRuntime } from '@steward/service-kit';
import type { SessionStatus } from '@steward/state';

const TTL_MS = 5_000;

/** Which skills and workflows exist, cached briefly in memory: submissions are the hot path. */
@Injectable()
export class CatalogueLookup {
  private readonly skills = new Map<string, { exists: boolean; at: number }>();
  private readonly workflows = new Map<string, { version: number | undefined; at: number }>();

  constructor(@Inject(ServiceRuntime) private readonly runtime: ServiceRuntime) {}

  async skillExists(name: string): Promise<boolean> {
    const hit = this.skills.get(name);
    if (hit && Date.now() - hit.at < TTL_MS) return hit.exists;
    const exists = (await this.runtime.prisma.skill.count({ where: { name } })) > 0;
    this.skills.set(name, { exists, at: Date.now() });
    return exists;
  }

  /** The status of the tenant's session, undefined if the tenant has none of that id (not cached: sessions change state). */
  async sessionStatus(tenantId: string, sessionId: string): Promise<SessionStatus | undefined> {
    return (await this.runtime.prisma.session.findFirst({ where: { id: sessionId, tenantId }, select: { status: true } }))?.status;
  }

  /** Drops what is cached about a tenant's workflow, so a version registered just now is found at once (on this replica). */
  forgetWorkflow(tenantId: string, name: string): void {
    const prefix = `${tenantId}\u0000${name}\u0000`;
    for (const key of this.workflows.keys()) if (key.startsWith(prefix)) this.workflows.delete(key);
  }

  /** The version to run: the pinned one if it exists, else the latest; undefined if none. */
  async workflowVersion(tenantId: string, name: string, pinned?: number): Promise<number | undefined> {
    const key = `${tenantId}\u0000${name}\u0000${pinned ?? ''}`;
    const hit = this.workflows.get(key);
    if (hit && Date.now() - hit.at < TTL_MS) return hit.version;
    const def = await this.runtime.prisma.workflowDefinition.findFirst({
      where: { name, tenantId: { in: [tenantId, 'system'] }, ...(pinned !== undefined ? { version: pinned } : {}) },
      orderBy: { version: 'desc' },
      select: { version: true },
    });
    this.workflows.set(key, { version: def?.version, at: Date.now() });
    return def?.version;
  }
}
