// steward login / logout: check a key against the gateway, then keep the URL and key in the config file.
import { z } from 'zod';
import { ApiClient, ApiRequestError } from '../api/client.js';
import { SkillPage } from '../api/schemas.js';
import { configPath, maskKey, normaliseUrl, readConfig, removeConfig, writeConfig } from '../config.js';
import { type Ctx, VERSION } from '../context.js';
import { CliError, EXIT } from '../errors.js';

const KeyList = z.looseObject({ keys: z.array(z.looseObject({ name: z.string(), prefix: z.string(), scopes: z.array(z.string()), revokedAt: z.string().nullish() })) });

export interface LoginOptions {
  url?: string;
  key?: string;
  json?: boolean;
}

async function readStdin(ctx: Ctx): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of ctx.io.stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks).toString('utf8').trim();
}

export async function login(ctx: Ctx, o: LoginOptions): Promise<void> {
  const out = ctx.out(o.json);
  const path = configPath(ctx.io.env);
  const stored = await readConfig(path).catch(() => undefined);
  const rawUrl = o.url ?? ctx.io.env.STEWARD_URL ?? stored?.url;
  if (!rawUrl) throw new CliError('give the gateway URL: steward login --url http://127.0.0.1:8080 --key <api key>', EXIT.usage);
  const url = normaliseUrl(rawUrl);
  let key = o.key === '-' ? await readStdin(ctx) : (o.key ?? ctx.io.env.STEWARD_API_KEY);
  key = key?.trim();
  if (!key) throw new CliError('give the API key: --key <key> (or --key - to read it from stdin)', EXIT.usage, 'an admin creates keys with `pnpm admin` or POST /v1/keys');

  const client = new ApiClient({ baseUrl: url, apiKey: key, userAgent: `steward-cli/${VERSION}`, ...(ctx.io.fetch ? { fetch: ctx.io.fetch } : {}) });
  let canRead = true;
  try {
    await client.get('/v1/skills', SkillPage, { limit: 1 });
  } catch (err) {
    if (err instanceof ApiRequestError && err.status === 401) throw new CliError(`the gateway at ${url} refused the key: ${err.message}`, EXIT.failed, 'check the key (it is shown once, when it is issued)');
    if (err instanceof ApiRequestError && err.status === 403) canRead = false;
    else throw err;
  }
  // Who the key is, when it may list the tenant's keys (admin); otherwise that stays unknown.
  let name: string | undefined;
  let scopes: string[] | undefined;
  try {
    const { keys } = await client.get('/v1/keys', KeyList);
    const me = keys.find((k) => key.startsWith(`stw_${k.prefix}_`));
    name = me?.name;
    scopes = me?.scopes;
  } catch {
    // not an admin key: fine
  }

  await writeConfig(path, { url, apiKey: key, savedAt: new Date(ctx.now()).toISOString() });
  const overridden = ['STEWARD_URL', 'STEWARD_API_KEY'].filter((v) => ctx.io.env[v] && (v === 'STEWARD_URL' ? normaliseUrl(ctx.io.env[v]) !== url : ctx.io.env[v] !== key));
  if (out.json) {
    out.data({ url, key: maskKey(key), config: path, ...(name ? { name } : {}), ...(scopes ? { scopes } : {}), canRead, ...(overridden.length ? { overriddenBy: overridden } : {}) });
    return;
  }
  const s = out.style;
  out.line(`${s.green('✓')} logged in to ${s.bold(url)} with key ${maskKey(key)}${name ? ` (${name}${scopes ? `: ${scopes.join(', ')}` : ''})` : ''}`);
  out.line(s.dim(`  saved in ${path} (readable by you only)`));
  if (!canRead) out.note(`note: this key lacks the "read" scope: listing and watching will be refused`);
  if (overridden.length) out.note(`note: ${overridden.join(' and ')} ${overridden.length > 1 ? 'are' : 'is'} set and take${overridden.length > 1 ? '' : 's'} precedence over the saved config`);
}

export async function logout(ctx: Ctx, o: { json?: boolean }): Promise<void> {
  const out = ctx.out(o.json);
  const path = configPath(ctx.io.env);
  const removed = await removeConfig(path);
  if (out.json) out.data({ loggedOut: removed, config: path });
  else out.line(removed ? `logged out (removed ${path})` : `not logged in (no ${path})`);
  if (ctx.io.env.STEWARD_API_KEY) out.note('note: STEWARD_API_KEY is still set in the environment');
}
