import { Controller, Get, Param, Res } from '@nestjs/common';
import { Public } from '@steward/service-kit';
import type { FastifyReply } from 'fastify';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ApiError } from '../http/api-error.js';
import { DOCS_CSP, DOCS_CSS, DOCS_HTML, DOCS_INITIALIZER_JS } from './docs-page.js';
import { openApiDocument } from './document.js';

interface Asset {
  type: string;
  /** A file of swagger-ui-dist, or our own content. */
  file?: string;
  text?: string;
  /** swagger-ui-dist's files change only with its version: cacheable. Ours are revalidated. */
  immutable: boolean;
}

/** The files of the page, by the name they are served under. Nothing else under /docs is served. */
const ASSETS: Record<string, Asset> = {
  'swagger-ui.css': { type: 'text/css; charset=utf-8', file: 'swagger-ui.css', immutable: true },
  'swagger-ui-bundle.js': { type: 'text/javascript; charset=utf-8', file: 'swagger-ui-bundle.js', immutable: true },
  'favicon-32x32.png': { type: 'image/png', file: 'favicon-32x32.png', immutable: true },
  'favicon-16x16.png': { type: 'image/png', file: 'favicon-16x16.png', immutable: true },
  'swagger-initializer.js': { type: 'text/javascript; charset=utf-8', text: DOCS_INITIALIZER_JS, immutable: false },
  'docs.css': { type: 'text/css; charset=utf-8', text: DOCS_CSS, immutable: false },
};

/** swagger-ui-dist's folder, from the package's own `getAbsoluteFSPath` (its main module would load the bundle into Node). */
function swaggerUiDir(): string {
  const require = createRequire(import.meta.url);
  const getAbsoluteFSPath = require('swagger-ui-dist/absolute-path.js') as () => string;
  return getAbsoluteFSPath();
}

/** The API description: `GET /openapi.json` (OpenAPI 3.1, generated from the routes' zod schemas) and the `/docs` page. */
@Controller()
@Public()
export class OpenApiController {
  private readonly files = new Map<string, Buffer>();
  private dir: string | undefined;

  @Get('openapi.json')
  async document(@Res() reply: FastifyReply): Promise<void> {
    await reply.header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff').type('application/json; charset=utf-8').send(openApiDocument());
  }

  @Get('docs')
  async page(@Res() reply: FastifyReply): Promise<void> {
    await this.secured(reply, false).type('text/html; charset=utf-8').send(DOCS_HTML);
  }

  @Get('docs/:asset')
  async asset(@Param('asset') name: string, @Res() reply: FastifyReply): Promise<void> {
    const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
    if (!asset) throw new ApiError(404, 'not_found', `no such file: /docs/${name}`);
    const body = asset.text ?? this.read(asset.file!);
    await this.secured(reply, asset.immutable).type(asset.type).send(body);
  }

  private read(file: string): Buffer {
    let body = this.files.get(file);
    if (!body) {
      body = readFileSync(join((this.dir ??= swaggerUiDir()), file));
      this.files.set(file, body);
    }
    return body;
  }

  private secured(reply: FastifyReply, immutable: boolean): FastifyReply {
    return reply
      .header('content-security-policy', DOCS_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cross-origin-opener-policy', 'same-origin')
      .header('cross-origin-resource-policy', 'same-origin')
      .header('cache-control', immutable ? 'public, max-age=86400' : 'no-cache');
  }
}
