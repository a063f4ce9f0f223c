import type { Claim, EngineRecord } from '@acefleet/contracts';
import { hasRoom, rankCandidates } from './placement.ts';
import type { EngineRegistry } from '../lifecycle/registry.ts';

/** Put a claim on an existing engine with room; the engine's id, or undefined when none has room. */
export type ClaimRoom = (claim: Claim, exclude: ReadonlySet<string>) => Promise<string | undefined>;

/**
 * Claims room on the best `eligible` engine (content affinity first) by compare-and-set alone: the write
 * re-checks room on the revision it replaces, so concurrent claims from any number of managers never put
 * more than `capacity` claims on an engine, and no lock is needed.
 */
export function claimRoomOn(registry: EngineRegistry, eligible: (rec: EngineRecord) => boolean): ClaimRoom {
  return async (claim, exclude) => {
    const tried = new Set(exclude);
    for (;;) {
      const [candidate] = rankCandidates(registry.table.records().filter(eligible), claim.contentKey, tried);
      if (!candidate) return undefined;
      const stored = await registry.mutate(candidate.id, (rec) =>
        hasRoom(rec) && eligible(rec) ? { ...rec, claims: [...rec.claims, claim] } : undefined,
      );
      if (stored?.record.claims.some((c) => c.claimId === claim.claimId)) return candidate.id;
      tried.add(candidate.id);
    }
  };
}
