import { Controller, Get, Headers, Param, Res } from '@nestjs/common';
import { Public } from '@steward/service-kit';
import type { FastifyReply } from 'fastify';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiError } from '../http/api-error.js';

/** The files of the page, by the name it is served under. Nothing else under /inbox is served. */
const ASSETS: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'inbox.js': 'text/javascript; charset=utf-8',
  'inbox.css': 'text/css; charset=utf-8',
  'icon.svg': 'image/svg+xml',
};

/**
 * Same origin only, nothing inline, no frames: the page's script and style are these files, and every request it
 * makes goes to this gateway. `form-action 'none'`: the key never leaves through a form, even without the script.
 */
export const INBOX_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'";

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/**
 * The folder holding the page's files. They live next to this module in src/; the build (tsc) does not copy them, so
 * when the gateway runs from dist/ they are read from the source tree beside it.
 */
function publicDir(): string | undefined {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'public'), join(here, '..', '..', 'src', 'inbox', 'public')];
  return candidates.find((d) => existsSync(join(d, 'index.html')));
}

/**
 * The escalation inbox page: static HTML, one ES module and one stylesheet. The page itself is public; it asks for an
 * API key and every piece of data it shows comes from the authenticated API.
 */
@Controller('inbox')
@Public()
export class InboxController {
  private readonly dir = publicDir();
  private readonly cache = new Map<string, Asset>();

  @Get()
  async page(@Headers('if-none-match') ifNoneMatch: string | undefined, @Res() reply: FastifyReply): Promise<void> {
    await this.send('index.html', ifNoneMatch, reply);
  }

  @Get(':asset')
  async asset(@Param('asset') name: string, @Headers('if-none-match') ifNoneMatch: string | undefined, @Res() reply: FastifyReply): Promise<void> {
    if (name === '' || name === 'index.html') {
      await reply.status(308).header('location', '/inbox').send();
      return;
    }
    await this.send(name, ifNoneMatch, reply);
  }

  private async send(name: string, ifNoneMatch: string | undefined, reply: FastifyReply): Promise<void> {
    const asset = this.load(name);
    void reply
      .header('content-security-policy', INBOX_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cross-origin-opener-policy', 'same-origin')
      .header('cross-origin-resource-policy', 'same-origin')
      .header('cache-control', 'no-cache')
      .header('etag', asset.etag);
    if (ifNoneMatch === asset.etag) {
      await reply.status(304).send();
      return;
    }
    await reply.status(200).type(asset.type).send(asset.body);
  }

  private load(name: string): Asset {
    const type = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
    if (type === undefined) throw new ApiError(404, 'not_found', `no such file: /inbox/${name}`);
    const cached = this.cache.get(name);
    if (cached) return cached;
    if (!this.dir) throw new ApiError(503, 'inbox_unavailable', 'the inbox page files are not installed with this gateway (apps/gateway/src/inbox/public)');
    const body = readFileSync(join(this.dir, name));
    const asset = { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
    this.cache.set(name, asset);
    return asset;
  }
}
