import type { Claim, EngineRecord } from '@acefleet/contracts';

/** When a claim was last known to be held: its last renewal, or its creation. */
export function lastRenewal(claim: Claim): number {
  return Date.parse(claim.renewedAt ?? claim.claimedAt);
}

/** Claims whose proxy has not renewed them within `ttlMs` of `now`. */
export function expiredClaims(record: EngineRecord, now: number, ttlMs: number): Claim[] {
  return record.claims.filter((c) => now - lastRenewal(c) > ttlMs);
}

/** The record without the given claims, or undefined when none of them is on it. */
export function withoutClaims(record: EngineRecord, claimIds: ReadonlySet<string>): EngineRecord | undefined {
  const claims = record.claims.filter((c) => !claimIds.has(c.claimId));
  return claims.length === record.claims.length ? undefined : { ...record, claims };
}

/**
 * The record with the named claims of `proxyId` renewed at `at` (only those the proxy says it holds: a claim
 * it does not know of must expire). Undefined when nothing matched.
 */
export function withRenewed(
  record: EngineRecord,
  proxyId: string,
  at: string,
  claimIds: ReadonlySet<string>,
): EngineRecord | undefined {
  let touched = false;
  const claims = record.claims.map((c) => {
    if (c.proxyId !== proxyId || !claimIds.has(c.claimId)) return c;
    touched = true;
    return { ...c, renewedAt: at };
  });
  return touched ? { ...record, claims } : undefined;
}
