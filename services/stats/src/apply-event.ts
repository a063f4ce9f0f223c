import {
  EngineHealth,
  ObservabilitySubjects,
  PlayerSessionEnded,
  PlayerSessionStarted,
  PlayerSubjects,
  PREFIX,
  ServicePresence,
  StreamEnded,
  StreamMoved,
  StreamStale,
  StreamStarted,
  StreamStarved,
  StreamStats,
  StreamViewers,
  Subjects,
  decodeMessage,
  AcefleetError,
  type StreamEnded as Ended,
  type StreamStarted as Started,
} from '@acefleet/contracts';
import type { TSchema } from '@sinclair/typebox';
import type { Db } from './db.ts';
import type { HistoryStore } from './history.ts';
import type { PlayerStore } from './players.ts';
import type { SessionStore } from './store.ts';

/** One stored event, as the live feed and the dashboard see it. */
export interface AppliedEvent {
  seq: number;
  kind: string;
  at: string;
  data: unknown;
}

const EVENT_PREFIX = `${PREFIX}.events.`;

/** Known subjects and their schemas; anything else under acefleet.events.> is kept as a generic event. */
const schemas: Record<string, TSchema> = {
  [Subjects.streamStarted]: StreamStarted,
  [Subjects.streamEnded]: StreamEnded,
  [Subjects.streamMoved]: StreamMoved,
  [Subjects.engineHealth]: EngineHealth,
  [ObservabilitySubjects.streamStats]: StreamStats,
  [ObservabilitySubjects.streamStale]: StreamStale,
  [ObservabilitySubjects.streamStarved]: StreamStarved,
  [ObservabilitySubjects.streamViewers]: StreamViewers,
  [ObservabilitySubjects.servicePresence]: ServicePresence,
  [PlayerSubjects.sessionStarted]: PlayerSessionStarted,
  [PlayerSubjects.sessionEnded]: PlayerSessionEnded,
};

const text = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

/**
 * Store one event in a single transaction: sessions, samples or the event log by subject. Every write is
 * keyed (stream id, JetStream sequence, stream + time), so applying the same event twice changes nothing.
 * Throws AcefleetError(invalid_message) for a payload that will never be valid.
 */
export function makeApplier(
  db: Db,
  sessions: SessionStore,
  history: HistoryStore,
  players: PlayerStore,
): (subject: string, seq: number, received: Date, payload: Uint8Array) => AppliedEvent {
  return db.transaction((subject: string, seq: number, received: Date, payload: Uint8Array) => {
    const kind = subject.startsWith(EVENT_PREFIX) ? subject.slice(EVENT_PREFIX.length) : subject;
    const schema = schemas[subject];
    const data = schema ? decodeMessage(schema, payload, kind) : decodeGeneric(payload, kind);
    const fields = data as Record<string, unknown>;
    const at = text(fields.at) ?? text(fields.endedAt) ?? text(fields.startedAt) ?? received.toISOString();
    switch (subject) {
      case Subjects.streamStarted:
        sessions.recordStarted(data as Started);
        break;
      case Subjects.streamEnded:
        sessions.recordEnded(data as Ended);
        players.endStream((data as Ended).streamId, (data as Ended).endedAt);
        break;
      case Subjects.streamMoved:
        sessions.recordMoved(data as StreamMoved);
        break;
      case ObservabilitySubjects.streamStats:
        history.recordSample(data as StreamStats);
        return { seq, kind, at, data };
      case ObservabilitySubjects.streamViewers:
        sessions.recordViewers(data as StreamViewers);
        return { seq, kind, at, data };
      // Player sessions have their own table (and would flood the event log).
      case PlayerSubjects.sessionStarted:
        players.recordStarted(data as PlayerSessionStarted);
        return { seq, kind, at, data };
      case PlayerSubjects.sessionEnded:
        players.recordEnded(data as PlayerSessionEnded);
        return { seq, kind, at, data };
    }
    history.recordEvent({
      seq,
      kind,
      engineId: text(fields.engineId),
      streamId: text(fields.streamId),
      at,
      data: JSON.stringify(data),
    });
    return { seq, kind, at, data };
  });
}

function decodeGeneric(payload: Uint8Array, kind: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(payload));
  } catch (cause) {
    throw new AcefleetError('invalid_message', `invalid ${kind}: not JSON`, { cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AcefleetError('invalid_message', `invalid ${kind}: not a JSON object`);
  }
  return value as Record<string, unknown>;
}
