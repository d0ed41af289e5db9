import type { ApiPrincipal } from '@steward/state';

interface Entry {
  principal: ApiPrincipal | undefined;
  until: number;
}

/**
 * Verified keys by hash for a short time, so a request costs no database round trip for its key. A revocation
 * made through this gateway is dropped at once; one made elsewhere takes effect within `ttlMs`.
 */
export class ApiKeyCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  get(hash: string, now: number): Entry | undefined {
    const e = this.entries.get(hash);
    if (e && e.until > now) return e;
    if (e) this.entries.delete(hash);
    return undefined;
  }

  /** Unknown keys are remembered for a shorter time, so a newly issued key works at once elsewhere too. */
  set(hash: string, principal: ApiPrincipal | undefined, now: number): void {
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(hash, { principal, until: now + (principal ? this.ttlMs : Math.min(this.ttlMs, 1000)) });
  }

  dropKey(keyId: string): void {
    for (const [hash, e] of this.entries) if (e.principal?.keyId === keyId) this.entries.delete(hash);
  }
}
