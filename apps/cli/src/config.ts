// Where `steward` keeps the gateway URL and API key: $XDG_CONFIG_HOME/steward/config.json (or
// ~/.config/steward/config.json), mode 0600; STEWARD_URL and STEWARD_API_KEY override it.
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { CliError, EXIT } from './errors.js';

export const StoredConfig = z.looseObject({
  url: z.string(),
  apiKey: z.string(),
  savedAt: z.string().optional(),
});
export type StoredConfig = z.infer<typeof StoredConfig>;

type Env = Readonly<Record<string, string | undefined>>;

export function configPath(env: Env): string {
  if (env.STEWARD_CONFIG) return env.STEWARD_CONFIG;
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(env.HOME ?? homedir(), '.config');
  return join(base, 'steward', 'config.json');
}

export async function readConfig(path: string): Promise<StoredConfig | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliError(`cannot read ${path}: ${(err as Error).message}`, EXIT.usage);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CliError(`${path} is not valid JSON; run \`steward login\` again (or delete the file)`, EXIT.usage);
  }
  const parsed = StoredConfig.safeParse(json);
  if (!parsed.success) throw new CliError(`${path} lacks "url" or "apiKey"; run \`steward login\` again`, EXIT.usage);
  return parsed.data;
}

/** Writes the file readable by its owner only: a temporary file created 0600, then renamed over the old one. */
export async function writeConfig(path: string, config: StoredConfig): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

export async function removeConfig(path: string): Promise<boolean> {
  try {
    await readFile(path);
  } catch {
    return false;
  }
  await rm(path, { force: true });
  return true;
}

/** A gateway URL as typed: http(s) only, no trailing slash. */
export function normaliseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(/^[a-z]+:\/\//i.test(raw) ? raw : `http://${raw}`);
  } catch {
    throw new CliError(`"${raw}" is not a URL (e.g. http://127.0.0.1:8080)`, EXIT.usage);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError(`the gateway URL must be http or https, not ${url.protocol}`, EXIT.usage);
  if (url.search || url.hash) throw new CliError('the gateway URL takes no query or fragment', EXIT.usage);
  return url.toString().replace(/\/+$/, '');
}

export interface Resolved {
  url: string;
  apiKey: string;
  /** Where each came from, for `steward login --show`/errors. */
  source: { url: 'env' | 'config'; apiKey: 'env' | 'config' };
  path: string;
}

/** The URL and key to use: the environment first, then the config file. */
export async function resolveConfig(env: Env): Promise<Resolved> {
  const path = configPath(env);
  const stored = await readConfig(path);
  const envUrl = env.STEWARD_URL?.trim() || undefined;
  const envKey = env.STEWARD_API_KEY?.trim() || undefined;
  const url = envUrl ?? stored?.url;
  const apiKey = envKey ?? stored?.apiKey;
  if (url === undefined || apiKey === undefined) {
    throw new CliError(
      `no ${url === undefined ? 'gateway URL' : 'API key'} configured`,
      EXIT.usage,
      'run `steward login --url <gateway url> --key <api key>`, or set STEWARD_URL and STEWARD_API_KEY',
    );
  }
  return { url: normaliseUrl(url), apiKey, source: { url: envUrl ? 'env' : 'config', apiKey: envKey ? 'env' : 'config' }, path };
}

/** `stw_abcdefghijkl_…` → `stw_abcdefghijkl_…` with the secret part hidden. */
export function maskKey(key: string): string {
  const m = /^(stw_[a-z0-9]+_)/.exec(key);
  return m ? `${m[1]}…` : `${key.slice(0, 4)}…`;
}
