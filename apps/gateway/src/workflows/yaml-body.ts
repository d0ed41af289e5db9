import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';

/** Content types taken as YAML workflow definitions. */
export const YAML_CONTENT_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml'] as const;

/** Largest definition accepted, YAML or JSON. */
export const DEFINITION_LIMIT_BYTES = 256 * 1024;

/**
 * Teaches Fastify the YAML content types: the body stays the raw string (the register use case parses it, so a
 * syntax error becomes `invalid_yaml` with the parser's position). Registered while the app initialises, before it
 * listens; a body over DEFINITION_LIMIT_BYTES is refused with 413 before it is read whole.
 */
@Injectable()
export class YamlBodyParser implements OnModuleInit {
  constructor(@Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    for (const type of YAML_CONTENT_TYPES) {
      if (fastify.hasContentTypeParser(type)) continue;
      fastify.addContentTypeParser(type, { parseAs: 'string', bodyLimit: DEFINITION_LIMIT_BYTES }, (_req, body, done) => done(null, body));
    }
  }
}

/** True if the request's content type (parameters aside) is one of the YAML types. */
export function isYamlContentType(header: string | undefined): boolean {
  const type = header?.split(';', 1)[0]?.trim().toLowerCase();
  return (YAML_CONTENT_TYPES as readonly string[]).includes(type ?? '');
}
