// A task's input from the command line: a JSON or YAML file, a JSON string, and `-i key=value` pairs, merged in
// that order (later wins).
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { CliError, EXIT } from './errors.js';

export type JsonObject = Record<string, unknown>;

const isPlainObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseJsonObject(text: string, what: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CliError(`${what} is not valid JSON: ${(err as Error).message}`, EXIT.usage);
  }
  if (!isPlainObject(value)) throw new CliError(`${what} must be a JSON object ({…}), not ${describe(value)}`, EXIT.usage);
  return value;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}

/** Parses YAML with the `yaml` package when it is installed (it is in this workspace). */
export async function parseYaml(text: string, what: string): Promise<unknown> {
  let mod: { parse: (src: string) => unknown };
  try {
    mod = await import('yaml');
  } catch {
    throw new CliError(`${what}: reading YAML needs the "yaml" package, which is not installed here; give the input as JSON`, EXIT.usage);
  }
  try {
    return mod.parse(text);
  } catch (err) {
    throw new CliError(`${what} is not valid YAML: ${(err as Error).message.split('\n')[0]}`, EXIT.usage);
  }
}

export async function readInputFile(path: string, read: (p: string) => Promise<string> = (p) => readFile(p, 'utf8')): Promise<JsonObject> {
  let text: string;
  try {
    text = await read(path);
  } catch (err) {
    throw new CliError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, EXIT.usage);
  }
  const ext = extname(path).toLowerCase();
  if (ext === '.yaml' || ext === '.yml') {
    const v = await parseYaml(text, path);
    if (v === null || v === undefined) return {};
    if (!isPlainObject(v)) throw new CliError(`${path} must hold a mapping (an object), not ${describe(v)}`, EXIT.usage);
    return v;
  }
  return parseJsonObject(text, path);
}

/**
 * One `-i` pair: `key=value` sets a string, `key:=json` a JSON value (number, boolean, null, array, object);
 * dots in the key nest (`to.name=world` → `{"to":{"name":"world"}}`).
 */
export function parsePair(pair: string): { path: string[]; value: unknown } {
  const eq = pair.indexOf('=');
  if (eq <= 0) throw new CliError(`-i ${pair}: expected key=value (a string) or key:=json`, EXIT.usage);
  const json = pair[eq - 1] === ':';
  const key = pair.slice(0, json ? eq - 1 : eq);
  const raw = pair.slice(eq + 1);
  const path = key.split('.');
  if (key === '' || path.some((p) => p === '')) throw new CliError(`-i ${pair}: the key "${key}" is empty or has an empty part`, EXIT.usage);
  if (!json) return { path, value: raw };
  try {
    return { path, value: JSON.parse(raw) as unknown };
  } catch {
    throw new CliError(`-i ${pair}: the value after ":=" is not JSON (for a string, use ${key}=${raw})`, EXIT.usage);
  }
}

export function setPath(target: JsonObject, path: readonly string[], value: unknown): void {
  let node = target;
  for (const [i, part] of path.slice(0, -1).entries()) {
    const next = node[part];
    if (next === undefined) {
      const created: JsonObject = {};
      node[part] = created;
      node = created;
    } else if (isPlainObject(next)) {
      node = next;
    } else {
      throw new CliError(`-i ${path.join('.')}: ${path.slice(0, i + 1).join('.')} is already set to a value that is not an object`, EXIT.usage);
    }
  }
  node[path.at(-1)!] = value;
}

export interface InputFlags {
  input?: string;
  inputFile?: string;
  /** The `-i` pairs, in order. */
  set?: readonly string[];
}

export async function buildInput(flags: InputFlags, read?: (p: string) => Promise<string>): Promise<JsonObject> {
  const input: JsonObject = flags.inputFile !== undefined ? await readInputFile(flags.inputFile, read) : {};
  if (flags.input !== undefined) Object.assign(input, parseJsonObject(flags.input, '--input'));
  for (const pair of flags.set ?? []) {
    const { path, value } = parsePair(pair);
    setPath(input, path, value);
  }
  return input;
}
