import type { FastifyRequest } from 'fastify';
import { principalOf } from '../auth/principal.js';

/** The tenant of a request: the one its API key belongs to. Every query of a handler is filtered by it. */
export function tenantOf(req: FastifyRequest): string {
  return principalOf(req).tenantId;
}
