import { randomUUID } from 'node:crypto';

/** A stream this proxy placed by itself, offered to the manager for adoption with its next renewals. */
export interface AdoptionOffer {
  engineId: string;
  claimId: string;
  contentKey: string;
}

interface LocalLease {
  engineId: string;
  /** Set for engines of the fleet (from the engines table); a static engine is no manager's to adopt. */
  contentKey: string | undefined;
  /** Offered in a renewal that is unanswered yet or got no answer: the manager may hold it already. */
  offered: boolean;
}

/**
 * The leases of streams this proxy placed on engines by itself (the manager did not answer), from the choice
 * until the stream lets the engine go or the manager adopts the lease. Counted per engine so that no engine
 * gets more sessions from here than it has room for. An adopted lease is a claim like any other: renewed and
 * released at the manager under the same claim id.
 */
export class LocalLeases {
  private readonly leases = new Map<string, LocalLease>();

  /** A new lease on `engineId`; returns its claim id. */
  add(engineId: string, contentKey: string | undefined): string {
    const claimId = `local-${randomUUID()}`;
    this.leases.set(claimId, { engineId, contentKey, offered: false });
    return claimId;
  }

  has(claimId: string): boolean {
    return this.leases.has(claimId);
  }

  count(engineId: string): number {
    let n = 0;
    for (const l of this.leases.values()) if (l.engineId === engineId) n++;
    return n;
  }

  get awaitingAdoption(): boolean {
    return [...this.leases.values()].some((l) => l.contentKey !== undefined);
  }

  /** Offer every lease the manager could adopt: each counts as possibly held there until the answer. */
  offer(): AdoptionOffer[] {
    const offers: AdoptionOffer[] = [];
    for (const [claimId, l] of this.leases) {
      if (l.contentKey === undefined) continue;
      l.offered = true;
      offers.push({ engineId: l.engineId, claimId, contentKey: l.contentKey });
    }
    return offers;
  }

  /**
   * The manager answered a renewal that carried `offers`: those it renewed are its claims now (no longer
   * local), the others it does not hold. Returns the adopted ones still held here.
   */
  settle(offers: readonly AdoptionOffer[], renewed: ReadonlySet<string>): AdoptionOffer[] {
    const adopted: AdoptionOffer[] = [];
    for (const offer of offers) {
      const lease = this.leases.get(offer.claimId);
      if (!lease) continue;
      if (!renewed.has(offer.claimId)) lease.offered = false;
      else {
        this.leases.delete(offer.claimId);
        adopted.push(offer);
      }
    }
    return adopted;
  }

  /**
   * Forget the lease of a stream that let its engine go. True when that is all; false when the manager holds
   * or may hold a claim under this id (not a local lease, or offered for adoption), to be released there.
   */
  releaseHere(claimId: string): boolean {
    const lease = this.leases.get(claimId);
    this.leases.delete(claimId);
    return lease !== undefined && !lease.offered;
  }
}
