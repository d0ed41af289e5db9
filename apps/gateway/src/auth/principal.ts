import type { ApiPrincipal } from '@steward/state';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../http/api-error.js';

const PRINCIPAL = Symbol('steward.principal');
type WithPrincipal = FastifyRequest & { [PRINCIPAL]?: ApiPrincipal };

export function setPrincipal(req: FastifyRequest, principal: ApiPrincipal): void {
  (req as WithPrincipal)[PRINCIPAL] = principal;
}

/** The authenticated key of this request (the auth guard runs before every non-public handler). */
export function principalOf(req: FastifyRequest): ApiPrincipal {
  const p = (req as WithPrincipal)[PRINCIPAL];
  if (!p) throw new ApiError(401, 'unauthenticated', 'an API key is required');
  return p;
}
