// Writes packages/contracts/json-schema/<type>.json from the zod catalogue. Run: pnpm --filter @steward/contracts schemas
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { catalogueJsonSchemas } from '../src/json-schema.js';

const dir = join(import.meta.dirname, '..', 'json-schema');
mkdirSync(dir, { recursive: true });
for (const f of readdirSync(dir)) rmSync(join(dir, f));
for (const [type, schema] of Object.entries(catalogueJsonSchemas())) {
  writeFileSync(join(dir, `${type}.json`), JSON.stringify(schema, null, 2) + '\n');
}
console.log(`wrote ${readdirSync(dir).length} schemas to ${dir}`);
