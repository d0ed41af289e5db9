// The admin command, run as a user would (`pnpm admin …` runs this file with tsx), against a fresh schema.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyApiKey } from '../api-keys.js';
import { createTestSchema, type TestSchema } from '../testing.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..', '..', '..');
let db: TestSchema;

async function admin(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, ['--conditions=development', '--import', 'tsx', join(ROOT, 'packages/state/src/cli/admin.ts'), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: db.databaseUrl, DATABASE_SCHEMA: db.schema },
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  db = await createTestSchema('admin_cli');
});
afterAll(async () => {
  await db?.drop();
});

describe('pnpm admin', () => {
  it('creates the first tenant with an admin key, more keys, lists and revokes them', async () => {
    const first = await admin('create-tenant', 'acme', '--name', 'Acme Ltd', '--json');
    expect(first.code).toBe(0);
    const issued = JSON.parse(first.stdout) as { key: string; keyId: string; tenantId: string; tenantCreated: boolean };
    expect(issued).toMatchObject({ tenantId: 'acme', tenantCreated: true });
    expect(await verifyApiKey(db.prisma, issued.key)).toMatchObject({ tenantId: 'acme', scopes: ['admin'] });
    expect((await db.prisma.tenant.findUnique({ where: { id: 'acme' } }))?.name).toBe('Acme Ltd');
    // The secret is nowhere in the database.
    const row = await db.prisma.apiKey.findUniqueOrThrow({ where: { id: issued.keyId } });
    expect(JSON.stringify(row)).not.toContain(issued.key.slice(17));

    const ci = await admin('create-key', '--tenant', 'acme', '--scopes', 'submit,read', '--name', 'ci');
    expect(ci.code).toBe(0);
    expect(ci.stdout).toMatch(/shown once/);
    const ciKey = /(stw_\S+)/.exec(ci.stdout)?.[1] ?? '';
    expect(await verifyApiKey(db.prisma, ciKey)).toMatchObject({ tenantId: 'acme', scopes: ['submit', 'read'] });

    const listed = JSON.parse((await admin('list-keys', '--tenant', 'acme', '--json')).stdout) as { id: string; name: string }[];
    expect(listed.map((k) => k.name)).toEqual(['admin', 'ci']);

    expect((await admin('revoke-key', '--tenant', 'acme', issued.keyId)).code).toBe(0);
    expect(await verifyApiKey(db.prisma, issued.key)).toBeUndefined();
    expect((await admin('revoke-key', '--tenant', 'acme', issued.keyId)).code).toBe(1);
  });

  it('refuses bad input with a message and a non-zero exit', async () => {
    const badScope = await admin('create-key', '--tenant', 'acme', '--scopes', 'root');
    expect(badScope.code).toBe(2);
    expect(badScope.stderr).toMatch(/--scopes must be/);
    const noTenant = await admin('create-key', '--tenant', 'nobody', '--scopes', 'read');
    expect(noTenant.code).toBe(1);
    expect(noTenant.stderr).toMatch(/no tenant nobody/);
    expect((await admin('create-tenant', 'Not Valid')).code).toBe(1);
    expect((await admin('frobnicate')).stderr).toMatch(/unknown command/);
  });
});
