import type { EngineRecord } from '@acefleet/contracts';

/**
 * How many channels could play at once through this proxy now: the streams it plays, plus the free room of
 * the ready engines it knows (capacity minus claims), within MAX_STREAMS. Media servers size their tuner
 * count (HDHomeRun TunerCount) from it.
 */
export function tunerRoom(engines: readonly EngineRecord[], playing: number, maxStreams: number): number {
  const free = engines
    .filter((e) => e.state === 'ready')
    .reduce((sum, e) => sum + Math.max(0, e.capacity - e.claims.length), 0);
  return Math.min(maxStreams, playing + free);
}
