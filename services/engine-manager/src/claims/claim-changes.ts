import type { Claim, EngineRecord } from '@acefleet/contracts';
import { hasRoom, hasRoomFor, isStandby } from './placement.ts';

/** An engine's record with one more claim, and the standby claim given up to make room for it. */
export interface ClaimAdded {
  record: EngineRecord;
  givenUp?: Claim;
}

/**
 * The record with `claim` added, when it has room for it (hasRoomFor): a stream that finds the engine full
 * gives up its oldest standby claim in the same write, so standby claims never keep a channel from starting.
 * Undefined when there is no room.
 */
export function withClaim(record: EngineRecord, claim: Claim): ClaimAdded | undefined {
  if (!hasRoomFor(record, claim.standby)) return undefined;
  if (hasRoom(record)) return { record: { ...record, claims: [...record.claims, claim] } };
  const [givenUp] = record.claims.filter(isStandby).sort((a, b) => lastClaimed(a) - lastClaimed(b));
  if (!givenUp) return undefined;
  const claims = [...record.claims.filter((c) => c !== givenUp), claim];
  return { record: { ...record, claims }, givenUp };
}

const lastClaimed = (claim: Claim): number => Date.parse(claim.claimedAt);

/** When a claim was last known to be held: its last renewal, or its creation. */
export function lastRenewal(claim: Claim): number {
  return Date.parse(claim.renewedAt ?? claim.claimedAt);
}

/**
 * Claims whose proxy has not renewed them within `ttlMs` of `now`, counting from `since` at the earliest:
 * when this manager started leading its host. Renewals reach only the manager of the engines' host, so
 * while a host had no leader none were recorded; its claims get a full TTL from the takeover.
 */
export function expiredClaims(record: EngineRecord, now: number, ttlMs: number, since = 0): Claim[] {
  return record.claims.filter((c) => now - Math.max(lastRenewal(c), since) > ttlMs);
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
 * `at`: at most `allowed` of them (the proxy's remaining MAX_CLAIMS_PER_PROXY), and only while the engine can
 * take a stream (hasRoom: usable and below its capacity). An offer beyond that is refused, even though the
 * stream may already play there: a renewal names claims nobody checked, so it must never put an engine over
 * its capacity (1000 forged offers once made every new play fail). An id the record holds already (adopted
 * before, or another proxy's) is left alone. Undefined when nothing was added.
 */
export function withAdopted(
  record: EngineRecord,
  proxyId: string,
  at: string,
  offers: readonly AdoptionOffer[],
  allowed: number,
): EngineRecord | undefined {
  const held = new Set(record.claims.map((c) => c.claimId));
  const claims = [...record.claims];
  let added = 0;
  for (const { claimId, contentKey } of offers) {
    if (added >= allowed || !hasRoom({ ...record, claims })) break;
    if (held.has(claimId)) continue;
    held.add(claimId);
    claims.push({ claimId, contentKey, proxyId, claimedAt: at, renewedAt: at });
    added++;
  }
  return added === 0 ? undefined : { ...record, claims };
}
