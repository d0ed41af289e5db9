// Each tenant's escalation engine lives in PostgreSQL: its policy (escalation_rule_sets, one row per version) and its
// learned state (one model_snapshots row, rewritten with a new version in the transaction that changed it). A
// replica keeps the engine in memory while the stored version matches the one it last wrote or read, so a decision
// costs one short lookup, not a reload; a tenant's work is serialised by a transaction-scoped advisory lock.
import { EscalationPolicy } from '@steward/contracts';
import { EscalationEngine, type EngineConfigInput, type EngineSnapshot, type Preference, type RuleSet } from '@steward/escalation-engine';
import { json, type UnitOfWorkContext } from '@steward/state';

const KIND = 'escalation-engine';
const snapshotId = (tenantId: string): string => `${tenantId}:${KIND}`;

export interface TenantEngine {
  engine: EscalationEngine;
  policy: EscalationPolicy;
  /** Version of the tenant's policy (0: the defaults, never set). */
  policyVersion: number;
}

interface Cached extends TenantEngine {
  snapshotVersion: number;
  preferencesJson: string;
}

/** Latest policy of a tenant, or the defaults. */
export async function loadPolicy(ctx: Pick<UnitOfWorkContext, 'tx'>, tenantId: string): Promise<{ policy: EscalationPolicy; version: number }> {
  const row = await ctx.tx.escalationRuleSet.findFirst({ where: { tenantId }, orderBy: { version: 'desc' }, select: { version: true, rules: true } });
  if (!row) return { policy: EscalationPolicy.parse({}), version: 0 };
  return { policy: EscalationPolicy.parse(row.rules), version: row.version };
}

/** Preferences are stored under ids that name their tenant (the engine's ids are only unique within one engine). */
export const storedPreferenceId = (tenantId: string, enginePreferenceId: string): string => `${tenantId}:${enginePreferenceId}`;
export const enginePreferenceId = (tenantId: string, storedId: string): string | undefined =>
  storedId.startsWith(`${tenantId}:`) ? storedId.slice(tenantId.length + 1) : undefined;

export function ruleSetOf(policy: EscalationPolicy, policyVersion: number): RuleSet {
  return { version: policyVersion, rules: policy.rules, allowIrreversible: policy.allowIrreversible, allowCritical: policy.allowCritical };
}

export function engineConfig(tenantId: string, policy: EscalationPolicy, policyVersion: number, seed: number): EngineConfigInput {
  return {
    seed,
    policy: { mode: policy.mode, alpha: policy.alpha, delta: policy.delta, budget: policy.budget },
    auditRate: policy.auditRate,
    rules: { [tenantId]: ruleSetOf(policy, policyVersion) },
  };
}

export class EngineStore {
  private readonly cache = new Map<string, Cached>();

  constructor(
    private readonly seed: number,
    /** Told when a stored snapshot cannot be read (an incompatible engine version): the tenant starts afresh. */
    private readonly warn: (msg: string, details: Record<string, unknown>) => void = () => {},
  ) {}

  /**
   * Runs `fn` with the tenant's engine under the tenant's lock, then stores what it learned in the same transaction.
   * If the transaction rolls back, the stored version stays behind the cached one and the next call reloads.
   */
  async with<T>(ctx: UnitOfWorkContext, tenantId: string, fn: (t: TenantEngine) => T | Promise<T>): Promise<T> {
    const { tx } = ctx;
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`escalation:${tenantId}`}, 0))`;
    const t = await this.load(ctx, tenantId);
    const out = await fn(t);
    const snapshotVersion = t.snapshotVersion + 1;
    const weights = json(t.engine.snapshot());
    await tx.modelSnapshot.upsert({
      where: { id: snapshotId(tenantId) },
      create: { id: snapshotId(tenantId), tenantId, kind: KIND, version: snapshotVersion, weights },
      update: { version: snapshotVersion, weights, createdAt: new Date() },
    });
    t.snapshotVersion = snapshotVersion;
    await this.mirrorPreferences(ctx, tenantId, t);
    this.cache.set(tenantId, t);
    return out;
  }

  /** Forgets every cached engine (tests: a restart). */
  clear(): void {
    this.cache.clear();
  }

  private async load(ctx: UnitOfWorkContext, tenantId: string): Promise<Cached> {
    const { tx } = ctx;
    const [stored] = await tx.$queryRaw<{ version: number; policy_version: number | null }[]>`
      SELECT m.version, (SELECT max(version) FROM escalation_rule_sets WHERE tenant_id = ${tenantId}) AS policy_version
        FROM (SELECT 1) AS one LEFT JOIN model_snapshots m ON m.id = ${snapshotId(tenantId)}`;
    const snapshotVersion = stored?.version ?? 0;
    const policyVersion = stored?.policy_version ?? 0;
    const cached = this.cache.get(tenantId);
    if (cached && cached.snapshotVersion === snapshotVersion && cached.policyVersion === policyVersion) return cached;

    const { policy, version } = await loadPolicy(ctx, tenantId);
    const config = engineConfig(tenantId, policy, version, this.seed);
    let engine: EscalationEngine;
    if (snapshotVersion === 0) engine = new EscalationEngine(config);
    else {
      const row = await tx.modelSnapshot.findUniqueOrThrow({ where: { id: snapshotId(tenantId) }, select: { weights: true } });
      const snapshot = row.weights as unknown as EngineSnapshot;
      try {
        engine = EscalationEngine.restore(config, snapshot);
        // The snapshot carries the rules it was taken with; a newer policy replaces them.
        const previous = snapshot.rules[tenantId] as { version?: number } | undefined;
        if ((previous?.version ?? -1) < version) engine.setRules(tenantId, ruleSetOf(policy, version));
      } catch (err) {
        this.warn('stored escalation engine snapshot cannot be read; the tenant starts with a fresh engine and earns its autonomy again', { tenantId, snapshotVersion, err: err instanceof Error ? err.message : String(err) });
        engine = new EscalationEngine(config);
      }
    }
    return { engine, policy, policyVersion: version, snapshotVersion, preferencesJson: cached?.preferencesJson ?? '' };
  }

  /** Keeps learned_preferences (what the API shows) equal to the engine's preferences, writing only on change. */
  private async mirrorPreferences(ctx: UnitOfWorkContext, tenantId: string, t: Cached): Promise<void> {
    const prefs: Preference[] = t.engine.preferences();
    const text = JSON.stringify(prefs);
    if (text === t.preferencesJson) return;
    t.preferencesJson = text;
    for (const p of prefs) {
      const row = {
        decisionType: p.type,
        attributes: json({ condition: p.condition, ...(p.statusReason ? { statusReason: p.statusReason } : {}), evidence: p.evidence }),
        choice: json(p.choice),
        evidence: p.support,
        agreement: p.agreement,
        confidenceLower: p.lowerBound,
        status: p.status,
        updatedAt: new Date(p.updatedAt),
        revokedAt: p.status === 'revoked' ? new Date(p.updatedAt) : null,
      };
      const id = storedPreferenceId(tenantId, p.id);
      await ctx.tx.learnedPreference.upsert({ where: { id }, create: { id, tenantId, createdAt: new Date(p.createdAt), ...row }, update: row });
    }
  }
}
