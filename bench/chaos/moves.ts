import {
  ObservabilitySubjects,
  type StreamEnded,
  type StreamMoved,
  type StreamStale,
  streamEventsOf,
} from '@acefleet/contracts';
import { storedEvents, type Stack, type StackNats } from '@acefleet/testkit';

/** The engines a fault hit, and how many streams they carried when it began. */
export interface Hit {
  engineIds: string[];
  streams: number;
}

/** What the stored events say happened to streams during a fault's window: the proof it was felt. */
export interface Changes {
  /** `stream.moved` events stored since the window opened. */
  moved: number;
  /** Of those, moves off an engine the fault hit. */
  movedOffHit: number;
  /** `stream.ended` events stored since the window opened. */
  ended: number;
  /** Their reasons, `reason×count`, for the report. */
  endReasons: string;
  /** `stream.stale` alerts stored since the window opened. */
  staleAlerts: number;
  /** Of those, alerts about an engine the stream had already moved off: the monitor missed the move. */
  falseStale: number;
}

/** Moves and ends stored since `since` (ISO times in the events); `hit` names the engines the fault hit. */
export async function changesSince(
  stack: Stack<StackNats>,
  since: Date,
  hit: Hit | undefined,
): Promise<Changes> {
  const after = (iso: string): boolean => Date.parse(iso) >= since.getTime();
  const moves = (await storedEvents<StreamMoved>(stack.nats, streamEventsOf('moved')))
    .map((e) => e.data)
    .filter((m) => after(m.at));
  const ends = (await storedEvents<StreamEnded>(stack.nats, streamEventsOf('ended')))
    .map((e) => e.data)
    .filter((e) => after(e.endedAt));
  const stale = (await storedEvents<StreamStale>(stack.nats, ObservabilitySubjects.streamStale))
    .map((e) => e.data)
    .filter((a) => after(a.at));
  const movedOff = (a: StreamStale): boolean =>
    moves.some(
      (m) =>
        m.streamId === a.streamId &&
        m.previousEngineId === a.engineId &&
        Date.parse(m.at) <= Date.parse(a.at),
    );
  const reasons = new Map<string, number>();
  for (const e of ends) reasons.set(e.reason, (reasons.get(e.reason) ?? 0) + 1);
  const hitIds = new Set(hit?.engineIds);
  return {
    moved: moves.length,
    movedOffHit: moves.filter((m) => hitIds.has(m.previousEngineId)).length,
    ended: ends.length,
    endReasons: [...reasons].map(([r, n]) => `${r}×${n}`).join(' '),
    staleAlerts: stale.length,
    falseStale: stale.filter(movedOff).length,
  };
}
