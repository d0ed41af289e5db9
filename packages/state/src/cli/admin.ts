// `pnpm admin <command>`: tenants and API keys, straight against DATABASE_URL (the first key of a tenant has to come
// from somewhere that needs no key). A key's secret is printed once and never stored.
//
//   pnpm admin create-tenant <id> [--name <name>] [--key-name <name>] [--scopes admin] [--json]
//   pnpm admin create-key --tenant <id> --scopes submit,read[,answer,admin] [--name <name>] [--json]
//   pnpm admin list-keys --tenant <id> [--json]
//   pnpm admin revoke-key --tenant <id> <keyId>
import { parseArgs } from 'node:util';
import { ApiScope, createTenant, issueApiKey, revokeApiKey } from '../api-keys.js';
import { createPrismaClient } from '../client.js';

const USAGE = `usage:
  admin create-tenant <id> [--name <name>] [--key-name <name>] [--scopes <s,…>] [--json]   creates the tenant (if new) and a key (admin by default)
  admin create-key --tenant <id> --scopes <submit,read,answer,admin> [--name <name>] [--json]
  admin list-keys --tenant <id> [--json]
  admin revoke-key --tenant <id> <keyId>`;

function fail(message: string, code = 2): never {
  console.error(message);
  process.exit(code);
}

const { values, positionals } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        tenant: { type: 'string' },
        name: { type: 'string' },
        'key-name': { type: 'string' },
        scopes: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
  } catch (err) {
    return fail(`${(err as Error).message}\n${USAGE}`);
  }
})();
const [command, arg] = positionals;

function scopesOf(raw: string | undefined, fallback: string): ApiScope[] {
  const parts = (raw ?? fallback).split(',').map((s) => s.trim()).filter(Boolean);
  const r = ApiScope.array().min(1).safeParse(parts);
  if (!r.success) fail(`--scopes must be a comma-separated list of ${ApiScope.options.join(', ')}`);
  return r.data;
}

const databaseUrl = process.env['DATABASE_URL'];
if (!databaseUrl) fail('DATABASE_URL is not set');
if (!command) fail(USAGE);
const schema = process.env['DATABASE_SCHEMA'] || undefined;
const db = createPrismaClient({ databaseUrl, ...(schema ? { schema } : {}), poolSize: 1 });

function printKey(issued: { key: string; keyId: string; tenantId: string; scopes: readonly string[] }, extra: Record<string, unknown> = {}): void {
  if (values.json) console.log(JSON.stringify({ ...extra, tenantId: issued.tenantId, keyId: issued.keyId, scopes: issued.scopes, key: issued.key }));
  else {
    console.log(`tenant ${issued.tenantId}: key ${issued.keyId} (${issued.scopes.join(', ')})`);
    console.log(`API key (shown once, store it now): ${issued.key}`);
  }
}

try {
  switch (command) {
    case 'create-tenant': {
      if (!arg) fail(`create-tenant needs an id\n${USAGE}`);
      const tenant = await createTenant(db, { id: arg, ...(values.name ? { name: values.name } : {}) });
      const issued = await issueApiKey(db, { tenantId: tenant.id, name: values['key-name'] ?? 'admin', scopes: scopesOf(values.scopes, 'admin') });
      printKey(issued, { tenantCreated: tenant.created });
      break;
    }
    case 'create-key': {
      if (!values.tenant) fail(`create-key needs --tenant\n${USAGE}`);
      const tenant = await db.tenant.findUnique({ where: { id: values.tenant } });
      if (!tenant) fail(`no tenant ${values.tenant}; create it with create-tenant`, 1);
      printKey(await issueApiKey(db, { tenantId: tenant.id, name: values.name ?? 'key', scopes: scopesOf(values.scopes, '') }));
      break;
    }
    case 'list-keys': {
      if (!values.tenant) fail(`list-keys needs --tenant\n${USAGE}`);
      const rows = await db.apiKey.findMany({ where: { tenantId: values.tenant }, orderBy: { createdAt: 'asc' }, select: { id: true, name: true, prefix: true, scopes: true, createdAt: true, lastUsedAt: true, revokedAt: true } });
      if (values.json) console.log(JSON.stringify(rows));
      else for (const r of rows) console.log(`${r.id}  stw_${r.prefix}_…  ${r.name}  [${r.scopes.join(',')}]  ${r.revokedAt ? `revoked ${r.revokedAt.toISOString()}` : `last used ${r.lastUsedAt?.toISOString() ?? 'never'}`}`);
      break;
    }
    case 'revoke-key': {
      if (!values.tenant || !arg) fail(`revoke-key needs --tenant and a key id\n${USAGE}`);
      if (!(await revokeApiKey(db, values.tenant, arg))) fail(`no active key ${arg} in tenant ${values.tenant}`, 1);
      console.log(values.json ? JSON.stringify({ revoked: arg }) : `revoked ${arg}`);
      break;
    }
    default:
      fail(`unknown command ${command}\n${USAGE}`);
  }
} catch (err) {
  fail(err instanceof Error ? err.message : String(err), 1);
} finally {
  await db.$disconnect();
}
