import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ApiError } from './api-error.js';

const TenantId = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/);

/**
 * The tenant of a request. Until API keys land (they carry the tenant), it is the `X-Tenant-Id` header or "default".
 */
export function tenantOf(req: FastifyRequest): string {
  const raw = req.headers['x-tenant-id'];
  if (raw === undefined) return 'default';
  const r = TenantId.safeParse(raw);
  if (!r.success) throw new ApiError(400, 'invalid_tenant', 'X-Tenant-Id must be lowercase letters, digits, _ or -', r.error.issues);
  return r.data;
}
