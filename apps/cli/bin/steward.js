#!/usr/bin/env node
// The `steward` command. Runs the built CLI (apps/cli/dist) when there is one, otherwise the TypeScript source
// through tsx (a fresh clone needs no build). STEWARD_CLI_SOURCE=1 runs the source even when dist/ exists.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist', 'main.js');

if (existsSync(dist) && !process.env.STEWARD_CLI_SOURCE) {
  await import(pathToFileURL(dist).href);
} else {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    process.stderr.write('steward: apps/cli is not built and tsx is missing: run `pnpm install`, or `pnpm --filter @steward/cli build`\n');
    process.exit(3);
  }
  register({ tsconfig: join(root, 'tsconfig.json') });
  await import(pathToFileURL(join(root, 'src', 'main.ts')).href);
}
