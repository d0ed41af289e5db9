import type { INestApplication } from '@nestjs/common';
import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { ModulesContainer, Reflector } from '@nestjs/core';
import { PUBLIC_ROUTE } from '@steward/service-kit';
import type { ApiScope } from '@steward/state';
import { SCOPE_METADATA, defaultScope } from '../auth/scopes.js';

export interface RouteInfo {
  method: string;
  /** Fastify-style path, e.g. `/v1/tasks/:id`. */
  path: string;
  public: boolean;
  /** The scope the auth guard demands (explicit, or `defaultScope`). */
  scope: ApiScope | undefined;
  controller: string;
  handler: string;
}

/** Every HTTP route of the app, read from Nest's controller metadata: what the guard enforces, for tests and the API description. */
export function listRoutes(app: INestApplication): RouteInfo[] {
  const reflector = app.get(Reflector);
  const out: RouteInfo[] = [];
  for (const mod of app.get(ModulesContainer).values()) {
    for (const wrapper of mod.controllers.values()) {
      const cls = wrapper.metatype as (new (...args: never[]) => object) | null;
      if (!cls) continue;
      const base = String(Reflect.getMetadata(PATH_METADATA, cls) ?? '');
      for (const name of Object.getOwnPropertyNames(cls.prototype)) {
        const fn = (cls.prototype as Record<string, unknown>)[name];
        if (name === 'constructor' || typeof fn !== 'function') continue;
        const m = Reflect.getMetadata(METHOD_METADATA, fn) as RequestMethod | undefined;
        if (m === undefined) continue;
        const sub = String(Reflect.getMetadata(PATH_METADATA, fn) ?? '');
        const method = RequestMethod[m];
        const isPublic = reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [fn, cls]) === true;
        const explicit = reflector.getAllAndOverride<ApiScope | undefined>(SCOPE_METADATA, [fn, cls]);
        out.push({
          method,
          path: `/${[base, sub].map((p) => p.replace(/^\/|\/$/g, '')).filter(Boolean).join('/')}`,
          public: isPublic,
          scope: isPublic ? undefined : (explicit ?? defaultScope(method)),
          controller: cls.name,
          handler: name,
        });
      }
    }
  }
  return out;
}
