import {
  EngineHealth,
  ObservabilitySubjects,
  PlayerSessionEnded,
  PlayerSessionStarted,
  PREFIX,
  ProxyLost,
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
  decodeStreamEvent,
  parsePlayerEventSubject,
  parseStreamEventSubject,
  AcefleetError,
  type PlayerEventKind,
  type StreamEventKind,
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
const SAMPLE_PREFIX = `${PREFIX}.samples.`;

/** The proxies' stream events, by kind; each is read with its sender checked (decodeStreamEvent). */
const streamSchemas: Record<StreamEventKind, TSchema> = {
  started: StreamStarted,
  moved: StreamMoved,
  ended: StreamEnded,
  viewers: StreamViewers,
};

/** The proxies' player-session events, by kind; read with their sender checked as stream events are. */
const playerSchemas: Record<PlayerEventKind, TSchema> = {
  started: PlayerSessionStarted,
  ended: PlayerSessionEnded,
};

/** The other known subjects and their schemas; anything else under acefleet.events.> is kept as a generic event. */
const schemas: Record<string, TSchema> = {
  [Subjects.engineHealth]: EngineHealth,
  [Subjects.proxyLost]: ProxyLost,
  [ObservabilitySubjects.streamStats]: StreamStats,
  [ObservabilitySubjects.streamStale]: StreamStale,
  [ObservabilitySubjects.streamStarved]: StreamStarved,
  [ObservabilitySubjects.servicePresence]: ServicePresence,
};

const text = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

/**
 * What an event says, and its kind as the dashboard knows it: a stream event's kind without its sender
 * (`stream.started`), any other subject's tail after `acefleet.events.` or `acefleet.samples.`.
 */
function decodeEvent(subject: string, payload: Uint8Array): { kind: string; data: unknown } {
  const stream = parseStreamEventSubject(subject);
  if (stream) {
    const kind = `stream.${stream.kind}`;
    return { kind, data: decodeStreamEvent(streamSchemas[stream.kind], subject, payload, kind) };
  }
  const player = parsePlayerEventSubject(subject);
  if (player) {
    const kind = `player.${player.kind}`;
    return { kind, data: decodeStreamEvent(playerSchemas[player.kind], subject, payload, kind) };
  }
  const prefix = [EVENT_PREFIX, SAMPLE_PREFIX].find((p) => subject.startsWith(p));
  const kind = prefix ? subject.slice(prefix.length) : subject;
  const schema = schemas[subject];
  return { kind, data: schema ? decodeMessage(schema, payload, kind) : decodeGeneric(payload, kind) };
}

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
    const { kind, data } = decodeEvent(subject, payload);
    const fields = data as Record<string, unknown>;
    const at = text(fields.at) ?? text(fields.endedAt) ?? text(fields.startedAt) ?? received.toISOString();
    switch (kind) {
      case 'stream.started':
        sessions.recordStarted(data as Started);
        break;
      case 'stream.ended':
        sessions.recordEnded(data as Ended);
        players.endStream((data as Ended).streamId, (data as Ended).endedAt);
        break;
      case 'stream.moved':
        sessions.recordMoved(data as StreamMoved);
        break;
      case 'proxy.lost':
        sessions.recordProxyLost(data as ProxyLost);
        break;
      case 'stream.stats':
        history.recordSample(data as StreamStats);
        return { seq, kind, at, data };
      case 'stream.viewers':
        sessions.recordViewers(data as StreamViewers);
        return { seq, kind, at, data };
      // Player sessions have their own table (and would flood the event log).
      case 'player.started':
        players.recordStarted(data as PlayerSessionStarted);
        return { seq, kind, at, data };
      case 'player.ended':
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
