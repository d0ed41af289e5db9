// Writes packages/contracts/json-schema/*.json from the zod schemas. Run: pnpm --filter @steward/contracts schemas
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jsonSchemaFiles } from '../src/json-schema.js';

const dir = join(import.meta.dirname, '..', 'json-schema');
mkdirSync(dir, { recursive: true });
for (const f of readdirSync(dir)) rmSync(join(dir, f));
for (const [file, schema] of Object.entries(jsonSchemaFiles())) {
  writeFileSync(join(dir, file), JSON.stringify(schema, null, 2) + '\n');
}
console.log(`wrote ${readdirSync(dir).length} schemas to ${dir}`);
