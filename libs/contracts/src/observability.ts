import { Type, type Static } from '@sinclair/typebox';
import { ContentRef, Id, IsoTime } from './schemas.ts';
import { PREFIX } from './subjects.ts';

/**
 * What the health monitor learns about live streams and the fleet's services, as durable events under
 * `acefleet.events.>` (so they land in the events stream and stats sees them like every other event); the
 * per-stream samples, which come every few seconds, under `acefleet.samples.>`, kept hours in a stream of
 * their own.
 */
export const ObservabilitySubjects = {
  /** One sample of an engine session's stat_url, every few seconds per active stream (the samples stream). */
  streamStats: `${PREFIX}.samples.stream.stats`,
  /** The engine no longer knows the session (`unknown playback session id`): the owning proxy ends it. */
  streamStale: `${PREFIX}.events.stream.stale`,
  /** A stream had zero peers for too long (starved: true), or got peers again (starved: false). */
  streamStarved: `${PREFIX}.events.stream.starved`,
  /** Which acefleet services answer $SRV.PING; published when the set of missing ones changes. */
  servicePresence: `${PREFIX}.events.services.presence`,
  /**
   * One probe of one engine, whatever its verdict (EngineProbe): a light core-NATS message, never stored, so
   * the dashboard shows when each engine was last probed, not only when its verdict last changed.
   */
  engineProbe: `${PREFIX}.probes.engine`,
} as const;

const Count = Type.Integer({ minimum: 0 });

export const EngineProbe = Type.Object({
  engineId: Id,
  ok: Type.Boolean(),
  at: IsoTime,
});
export type EngineProbe = Static<typeof EngineProbe>;

/** The stream a health-monitor finding is about, with the proxy that owns it. */
const StreamRef = {
  streamId: Id,
  proxyId: Id,
  engineId: Id,
  content: ContentRef,
};

export const StreamStats = Type.Object({
  ...StreamRef,
  /** Engine status: prebuf, dl, wait, buf… */
  status: Type.String({ maxLength: 32 }),
  peers: Count,
  speedDownKBps: Type.Number({ minimum: 0 }),
  speedUpKBps: Type.Number({ minimum: 0 }),
  downloadedBytes: Count,
  uploadedBytes: Count,
  at: IsoTime,
});
export type StreamStats = Static<typeof StreamStats>;

export const StaleReason = Type.Union([Type.Literal('unknown_session')]);
export type StaleReason = Static<typeof StaleReason>;

export const StreamStale = Type.Object({
  ...StreamRef,
  reason: StaleReason,
  detail: Type.String({ maxLength: 500 }),
  at: IsoTime,
});
export type StreamStale = Static<typeof StreamStale>;

export const StreamStarved = Type.Object({
  ...StreamRef,
  starved: Type.Boolean(),
  /** How long the stream has had zero peers (0 when it recovered). */
  zeroPeersMs: Count,
  at: IsoTime,
});
export type StreamStarved = Static<typeof StreamStarved>;

/** From proxies, under streamEventSubject('viewers', proxyId): how many players a stream has now. */
export const StreamViewers = Type.Object({
  streamId: Id,
  proxyId: Id,
  viewers: Count,
  at: IsoTime,
});
export type StreamViewers = Static<typeof StreamViewers>;

/**
 * stats' finding (Subjects.proxyLost) that a proxy stopped answering presence for too long, or came back as
 * another instance at its address: its sessions that started before `at` and are still open end there, with
 * reason proxy_lost. Stats publishes only this opinion, never a stream event of the proxy.
 */
export const ProxyLost = Type.Object({
  proxyId: Id,
  /** The instance that answers at the lost proxy's address now, if any. */
  successor: Type.Optional(Id),
  at: IsoTime,
});
export type ProxyLost = Static<typeof ProxyLost>;

export const ServiceInstance = Type.Object({
  name: Type.String({ maxLength: 128 }),
  id: Type.String({ maxLength: 128 }),
  version: Type.String({ maxLength: 64 }),
});
export type ServiceInstance = Static<typeof ServiceInstance>;

export const ServicePresence = Type.Object({
  /** Services that answered, one entry per instance. */
  present: Type.Array(ServiceInstance, { maxItems: 1000 }),
  /** Expected service names with no instance answering. */
  missing: Type.Array(Type.String({ maxLength: 128 }), { maxItems: 64 }),
  at: IsoTime,
});
export type ServicePresence = Static<typeof ServicePresence>;

/**
 * The reply of `acefleet.stats.summary` (and stats' `GET /api/totals`): every stream session stats has
 * recorded, from the event stream.
 */
export const StatsSummaryReply = Type.Object({
  sessionsStarted: Type.Integer({ minimum: 0 }),
  sessionsEnded: Type.Integer({ minimum: 0 }),
  /** Sessions started and not ended. */
  activeStreams: Type.Integer({ minimum: 0 }),
  bytesIn: Type.Integer({ minimum: 0 }),
  bytesOut: Type.Integer({ minimum: 0 }),
  /** Ended sessions by their end reason. */
  endedByReason: Type.Record(Type.String(), Type.Integer({ minimum: 0 })),
});
export type StatsSummaryReply = Static<typeof StatsSummaryReply>;
