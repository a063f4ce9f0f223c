import type { Claim, EngineRecord } from '@acefleet/contracts';
import type { Logger } from '@acefleet/platform';
import { withClaim, type ClaimAdded } from './claim-changes.ts';
import { rankCandidates } from './placement.ts';
import type { EngineRegistry } from '../lifecycle/registry.ts';

/**
 * Put a claim on an existing engine with room (`prefer` first: see rankCandidates); the engine's id, or
 * undefined when none has room.
 */
export type ClaimRoom = (
  claim: Claim,
  exclude: ReadonlySet<string>,
  prefer?: string,
) => Promise<string | undefined>;

/**
 * Claims room on the best `eligible` engine (content affinity first) by compare-and-set alone: the write
 * re-checks room on the revision it replaces, so concurrent claims from any number of managers never put
 * more than `capacity` claims on an engine, and no lock is needed. A stream may take the room of a standby
 * claim (given up in the same write, logged); a standby takes free room only.
 */
export function claimRoomOn(
  registry: EngineRegistry,
  eligible: (rec: EngineRecord) => boolean,
  log: Logger,
): ClaimRoom {
  return async (claim, exclude, prefer) => {
    const tried = new Set(exclude);
    for (;;) {
      const [candidate] = rankCandidates(registry.table.records().filter(eligible), claim, tried, prefer);
      if (!candidate) return undefined;
      let added: ClaimAdded | undefined;
      const stored = await registry.mutate(candidate.id, (rec) => {
        added = eligible(rec) ? withClaim(rec, claim) : undefined;
        return added?.record;
      });
      if (stored?.record.claims.some((c) => c.claimId === claim.claimId)) {
        if (added?.givenUp) {
          const { claimId, proxyId } = added.givenUp;
          log.info({ engineId: candidate.id, claimId, proxyId }, 'standby claim given up for a new channel');
        }
        return candidate.id;
      }
      tried.add(candidate.id);
    }
  };
}
