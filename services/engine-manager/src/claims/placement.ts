import type { Claim, EngineRecord } from '@acefleet/contracts';

/** A hot standby claim: it holds free room only, and is the first given up when a stream needs the room. */
export function isStandby(claim: Claim): boolean {
  return claim.standby === true;
}

function isUsable(rec: EngineRecord): boolean {
  return rec.state === 'ready' || rec.state === 'starting';
}

/** An engine can take another claim without giving one up: it is (or is becoming) usable and below capacity. */
export function hasRoom(rec: EngineRecord): boolean {
  return isUsable(rec) && rec.claims.length < rec.capacity;
}

/**
 * An engine can take a claim: a standby only in free room of a ready engine (it must be hot, and never waits
 * for a start); a stream in free room, or in the room of a standby claim it gives up (withClaim).
 */
export function hasRoomFor(rec: EngineRecord, standby: boolean | undefined): boolean {
  if (standby) return rec.state === 'ready' && hasRoom(rec);
  return hasRoom(rec) || (isUsable(rec) && rec.claims.some(isStandby));
}

/**
 * Engines that could take `claim`, best first. A stream: the engine it plays from now (`prefer`, a re-claim),
 * then an engine already playing its content (so the swarm is joined once), then free room before giving up
 * a standby claim, then ready before starting, then the least loaded. A standby: an engine on another host
 * than the excluded engines (the one the channel plays on), then the least loaded.
 */
export function rankCandidates(
  records: EngineRecord[],
  claim: Pick<Claim, 'contentKey' | 'standby'>,
  exclude: ReadonlySet<string>,
  prefer?: string,
): EngineRecord[] {
  const load = (rec: EngineRecord): number => rec.claims.length / rec.capacity;
  const avoidedHosts = new Set(records.filter((r) => exclude.has(r.id)).map((r) => r.hostId));
  const score = claim.standby
    ? (rec: EngineRecord): number => (avoidedHosts.has(rec.hostId) ? 1000 : 0) + load(rec)
    : (rec: EngineRecord): number =>
        (rec.id === prefer ? 0 : 2000) +
        (rec.claims.some((c) => c.contentKey === claim.contentKey) ? 0 : 1000) +
        (hasRoom(rec) ? 0 : 200) +
        (rec.state === 'ready' ? 0 : 100) +
        load(rec);
  return records
    .filter((rec) => hasRoomFor(rec, claim.standby) && !exclude.has(rec.id))
    .sort((a, b) => score(a) - score(b));
}

/**
 * Warm spares: usable engines with no stream. An engine holding only standby claims counts (a new channel
 * takes it at once by giving one up), so standby claims never make the autoscaler start an engine.
 */
export function isFree(rec: EngineRecord): boolean {
  return isUsable(rec) && rec.claims.every(isStandby);
}

/** Other hosts to ask for a new engine, the one with the fewest engines first. */
export function otherHostsByLoad(records: EngineRecord[], self: string): string[] {
  const counts = new Map<string, number>();
  for (const r of records) if (r.hostId !== self) counts.set(r.hostId, (counts.get(r.hostId) ?? 0) + 1);
  return [...counts].sort((a, b) => a[1] - b[1]).map(([host]) => host);
}
