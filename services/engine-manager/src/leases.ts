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

/** A stream a proxy placed by itself (the manager did not answer its acquire), offered for adoption. */
export interface AdoptionOffer {
  claimId: string;
  contentKey: string;
}

/**
 * The record with the offered claims of `proxyId` that it does not hold yet added, as claimed and renewed at
 * `at`. Capacity is not checked: the stream already plays there, and a record over capacity is full for
 * placement (hasRoom), which is the truth. An id the record holds already (adopted before, or another
 * proxy's) is left alone. Undefined when nothing was added.
 */
export function withAdopted(
  record: EngineRecord,
  proxyId: string,
  at: string,
  offers: readonly AdoptionOffer[],
): EngineRecord | undefined {
  const held = new Set(record.claims.map((c) => c.claimId));
  const adopted: Claim[] = [];
  for (const { claimId, contentKey } of offers) {
    if (held.has(claimId)) continue;
    held.add(claimId);
    adopted.push({ claimId, contentKey, proxyId, claimedAt: at, renewedAt: at });
  }
  return adopted.length === 0 ? undefined : { ...record, claims: [...record.claims, ...adopted] };
}
