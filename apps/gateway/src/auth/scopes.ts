import { SetMetadata } from '@nestjs/common';
import type { ApiScope } from '@steward/state';

export const SCOPE_METADATA = 'steward:required-scope';

/**
 * The scope a route needs. Without it a GET needs `read` and any other method needs `admin`, so a route that
 * forgets to say is closed rather than open.
 */
/** The scope of a route that declares none: `read` for GET and HEAD, `admin` for anything else. */
export const defaultScope = (method: string): ApiScope => (method === 'GET' || method === 'HEAD' ? 'read' : 'admin');

export const RequireScope = (scope: ApiScope): MethodDecorator & ClassDecorator => SetMetadata(SCOPE_METADATA, scope);
