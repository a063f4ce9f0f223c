import type { EngineRecord } from '@acefleet/contracts';

/** An engine can take another stream: it is (or is becoming) usable and below its capacity. */
export function hasRoom(rec: EngineRecord): boolean {
  return (rec.state === 'ready' || rec.state === 'starting') && rec.claims.length < rec.capacity;
}

/**
 * Engines that could take `contentKey`, best first: one already playing it (so the swarm is joined once),
 * then ready before starting, then the least loaded.
 */
export function rankCandidates(
  records: EngineRecord[],
  contentKey: string,
  exclude: ReadonlySet<string>,
): EngineRecord[] {
  const score = (rec: EngineRecord): number =>
    (rec.claims.some((c) => c.contentKey === contentKey) ? 0 : 1000) +
    (rec.state === 'ready' ? 0 : 100) +
    rec.claims.length / rec.capacity;
  return records.filter((rec) => hasRoom(rec) && !exclude.has(rec.id)).sort((a, b) => score(a) - score(b));
}

/** Engines without any stream and able to take one: the warm spares. */
export function isFree(rec: EngineRecord): boolean {
  return hasRoom(rec) && rec.claims.length === 0;
}

/** Other hosts to ask for a new engine, the one with the fewest engines first. */
export function otherHostsByLoad(records: EngineRecord[], self: string): string[] {
  const counts = new Map<string, number>();
  for (const r of records) if (r.hostId !== self) counts.set(r.hostId, (counts.get(r.hostId) ?? 0) + 1);
  return [...counts].sort((a, b) => a[1] - b[1]).map(([host]) => host);
}
