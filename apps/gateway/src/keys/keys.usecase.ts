import { Inject, Injectable } from '@nestjs/common';
import { ServiceRuntime } from '@steward/service-kit';
import { issueApiKey, revokeApiKey } from '@steward/state';
import { ApiGuard } from '../auth/api.guard.js';
import type { GatewayConfig } from '../config.js';
import { ApiError } from '../http/api-error.js';
import type { CreateKeyBody, KeyView } from './key.dto.js';

/** A tenant's API keys: issue (the secret is returned once), list (never the secret or its hash), revoke. */
@Injectable()
export class KeysUseCase {
  constructor(
    @Inject(ServiceRuntime) private readonly runtime: ServiceRuntime<GatewayConfig>,
    @Inject(ApiGuard) private readonly guard: ApiGuard,
  ) {}

  async create(tenantId: string, body: CreateKeyBody): Promise<KeyView & { key: string }> {
    const issued = await issueApiKey(this.runtime.prisma, { tenantId, name: body.name, scopes: body.scopes });
    this.runtime.log.info({ tenantId, keyId: issued.keyId, scopes: issued.scopes }, 'api key issued');
    return { id: issued.keyId, name: issued.name, prefix: issued.prefix, scopes: [...issued.scopes], createdAt: new Date().toISOString(), lastUsedAt: null, revokedAt: null, key: issued.key };
  }

  async list(tenantId: string): Promise<{ keys: KeyView[] }> {
    const rows = await this.runtime.prisma.apiKey.findMany({ where: { tenantId }, orderBy: { createdAt: 'asc' } });
    return {
      keys: rows.map((r) => ({
        id: r.id,
        name: r.name,
        prefix: r.prefix,
        scopes: r.scopes,
        createdAt: r.createdAt.toISOString(),
        lastUsedAt: r.lastUsedAt?.toISOString() ?? null,
        revokedAt: r.revokedAt?.toISOString() ?? null,
      })),
    };
  }

  async revoke(tenantId: string, keyId: string): Promise<void> {
    if (!(await revokeApiKey(this.runtime.prisma, tenantId, keyId))) throw new ApiError(404, 'not_found', `no active key ${keyId}`);
    this.guard.keys.dropKey(keyId);
    this.runtime.log.info({ tenantId, keyId }, 'api key revoked');
  }
}
