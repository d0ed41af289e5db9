// A tiny at-most-once ledger: what a skill already did for an idempotency key, kept outside every workspace.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ledgerDir, sha256 } from './run-command.js';

const file = (scope: string, key: string): string => path.join(ledgerDir(), `${sha256(`${scope}\0${key}`)}.json`);

/** The recorded result of `scope` for `key`, or undefined when nothing was recorded. */
export async function recall(scope: string, key: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file(scope, key), 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** Records a result atomically (write then rename), so a crash never leaves half a record. */
export async function remember(scope: string, key: string, value: unknown): Promise<void> {
  await mkdir(ledgerDir(), { recursive: true, mode: 0o700 });
  const f = file(scope, key);
  const tmp = `${f}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, JSON.stringify(value), { mode: 0o600 });
  await rename(tmp, f);
}
