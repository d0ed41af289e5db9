// `pnpm --filter @steward/state migrate`: apply pending migrations to DATABASE_URL (optionally DATABASE_SCHEMA).
import { applyMigrations } from '../migrate.js';

const databaseUrl = process.env['DATABASE_URL'];
if (databaseUrl === undefined || databaseUrl === '') {
  console.error('DATABASE_URL is not set');
  process.exit(2);
}
const schema = process.env['DATABASE_SCHEMA'] || undefined;

try {
  const { applied } = await applyMigrations({ databaseUrl, ...(schema === undefined ? {} : { schema }) });
  const where = schema === undefined ? '' : ` (schema ${schema})`;
  if (applied.length === 0) console.log(`no pending migrations${where}`);
  for (const name of applied) console.log(`applied ${name}${where}`);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
