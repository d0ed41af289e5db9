// API keys: shown once at issue, stored as a SHA-256 hash (keys are 256-bit random, so a slow hash adds nothing),
// looked up by a public prefix and compared in constant time.
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { PrismaClient } from './client.js';

/** What a key may do. `admin` implies every other scope. */
export const ApiScope = z.enum(['submit', 'read', 'answer', 'admin']);
export type ApiScope = z.infer<typeof ApiScope>;
export const ALL_SCOPES: readonly ApiScope[] = ApiScope.options;

export const TenantId = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lowercase letters, digits, _ or -, at most 63');

/** The identity a valid key stands for. */
export interface ApiPrincipal {
  readonly keyId: string;
  readonly tenantId: string;
  readonly scopes: readonly ApiScope[];
}

export interface IssuedApiKey extends ApiPrincipal {
  /** The secret: returned once, never stored. */
  readonly key: string;
  readonly prefix: string;
  readonly name: string;
}

const KEY_SHAPE = /^stw_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function hasScope(scopes: readonly ApiScope[], needed: ApiScope): boolean {
  return scopes.includes('admin') || scopes.includes(needed);
}

export async function createTenant(db: PrismaClient, tenant: { id: string; name?: string }): Promise<{ id: string; name: string; created: boolean }> {
  const id = TenantId.parse(tenant.id);
  const existing = await db.tenant.findUnique({ where: { id } });
  if (existing) return { id, name: existing.name, created: false };
  const row = await db.tenant.create({ data: { id, name: tenant.name ?? id } });
  return { id, name: row.name, created: true };
}

export async function issueApiKey(db: PrismaClient, opts: { tenantId: string; name: string; scopes: readonly ApiScope[] }): Promise<IssuedApiKey> {
  const scopes = [...new Set(opts.scopes.map((s) => ApiScope.parse(s)))];
  if (scopes.length === 0) throw new Error('a key needs at least one scope');
  const prefix = randomBytes(9).toString('base64url').toLowerCase().replace(/[^a-z0-9]/g, '0').slice(0, 12);
  const key = `stw_${prefix}_${randomBytes(32).toString('base64url')}`;
  const id = randomUUID();
  await db.apiKey.create({ data: { id, tenantId: opts.tenantId, name: opts.name, prefix, hash: hashApiKey(key), scopes } });
  return { keyId: id, tenantId: opts.tenantId, scopes, key, prefix, name: opts.name };
}

/** The principal of a presented key, or undefined if it is malformed, unknown or revoked. */
export async function verifyApiKey(db: PrismaClient, key: string): Promise<ApiPrincipal | undefined> {
  const m = KEY_SHAPE.exec(key);
  if (!m) return undefined;
  const row = await db.apiKey.findUnique({ where: { prefix: m[1]! }, select: { id: true, tenantId: true, hash: true, scopes: true, revokedAt: true } });
  if (!row || row.revokedAt) return undefined;
  const a = Buffer.from(row.hash, 'hex');
  const b = Buffer.from(hashApiKey(key), 'hex');
  if (a.length !== b.length || !timingSafeEqual(a, b)) return undefined;
  return { keyId: row.id, tenantId: row.tenantId, scopes: row.scopes.filter((s): s is ApiScope => ApiScope.safeParse(s).success) };
}

/** Revokes a key of this tenant; false if there is none (or it belongs to another tenant). */
export async function revokeApiKey(db: PrismaClient, tenantId: string, keyId: string): Promise<boolean> {
  const r = await db.apiKey.updateMany({ where: { id: keyId, tenantId, revokedAt: null }, data: { revokedAt: new Date() } });
  return r.count > 0;
}
