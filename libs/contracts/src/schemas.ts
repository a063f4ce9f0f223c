import { FormatRegistry, Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { AcefleetError } from './errors.ts';

FormatRegistry.Set('date-time', (v) => !Number.isNaN(Date.parse(v)));

const Hex40 = Type.String({ pattern: '^[0-9a-fA-F]{40}$' });
/** Identifiers (engine, claim, stream, proxy ids) and timestamps, the same everywhere on the wire. */
export const Id = Type.String({ minLength: 1, maxLength: 128 });
export const IsoTime = Type.String({ format: 'date-time', minLength: 20, maxLength: 40 });

/** Which content a stream plays: an AceStream content id or a torrent infohash, both 40 hex chars. */
export const ContentRef = Type.Object({
  kind: Type.Union([Type.Literal('id'), Type.Literal('infohash')]),
  value: Hex40,
});
export type ContentRef = Static<typeof ContentRef>;

const STATIC_ENGINE = 'static:';

/** The engine id a proxy gives a static engine (STATIC_ENGINES: no record, no manager): `static:<base URL>`. */
export function staticEngineId(baseUrl: string): string {
  return `${STATIC_ENGINE}${baseUrl}`;
}

/** The base URL a static engine id names, or undefined for another engine id. */
export function staticEngineUrl(engineId: string): string | undefined {
  return engineId.startsWith(STATIC_ENGINE) ? engineId.slice(STATIC_ENGINE.length) : undefined;
}

/** Stable key for a content, used for multiplexing and affinity: `id:<hex>` or `infohash:<hex>`, lower case. */
export function contentKeyOf(ref: ContentRef): string {
  return `${ref.kind}:${ref.value.toLowerCase()}`;
}

export const EngineState = Type.Union([
  Type.Literal('starting'),
  Type.Literal('ready'),
  Type.Literal('draining'),
  Type.Literal('unhealthy'),
]);
export type EngineState = Static<typeof EngineState>;

export const Claim = Type.Object({
  claimId: Id,
  contentKey: Type.String({ maxLength: 64 }),
  proxyId: Id,
  claimedAt: IsoTime,
  /** Last renewal by the holding proxy (acquire counts as one); the claim expires a claim TTL after it. */
  renewedAt: Type.Optional(IsoTime),
  /** A hot standby claim (acquired with `standby: true`): it holds free room only and is the first given up. */
  standby: Type.Optional(Type.Boolean()),
});
export type Claim = Static<typeof Claim>;

/** What the manager publishes to the engines KV bucket and what proxies cache. */
export const EngineRecord = Type.Object({
  id: Id,
  hostId: Id,
  baseUrl: Type.String({ pattern: '^https?://' }),
  containerId: Type.Optional(Type.String()),
  state: EngineState,
  capacity: Type.Integer({ minimum: 1 }),
  claims: Type.Array(Claim),
  createdAt: IsoTime,
  updatedAt: IsoTime,
  /** The engine's P2P port (in VPN mode the one Gluetun forwards goes to exactly one engine). */
  p2pPort: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
  /** Set with state `draining`: the engine is removed when empty or at this time. */
  drainDeadline: Type.Optional(IsoTime),
  /** Why the engine is draining or unhealthy. */
  stateReason: Type.Optional(Type.String({ maxLength: 200 })),
  /** The image its container was made from (Docker runtime; absent for local processes). */
  image: Type.Optional(Type.String({ maxLength: 300 })),
});
export type EngineRecord = Static<typeof EngineRecord>;

export const AcquireRequest = Type.Object({
  content: ContentRef,
  proxyId: Id,
  /** Engines that just failed this stream; the manager picks another. */
  excludeEngineIds: Type.Optional(Type.Array(Id, { maxItems: 64 })),
  /** The engine whose start just failed for this stream (never chosen again for it), and why. */
  failedEngineId: Type.Optional(Id),
  failureReason: Type.Optional(Type.String({ maxLength: 64 })),
  /**
   * The engine the stream plays from now, when it claims again (its claim was lost): placed there while that
   * engine has room, before content affinity and load, so that a re-claim never moves a playing stream.
   */
  preferEngineId: Type.Optional(Id),
  /**
   * When the proxy stops waiting for the reply. The manager grants nothing after it (it releases the claim
   * and answers no_engine_available): a claim granted after the proxy gave up would be held by no one.
   */
  deadline: Type.Optional(IsoTime),
  /**
   * A hot standby claim: a second session of a busy channel, ready to switch to. It is placed only in free
   * room of an existing engine (never on `excludeEngineIds`), never provisions one, and is the first thing
   * given up: a stream that needs the room takes it, and the proxy learns so at its next renewal (`lost`).
   */
  standby: Type.Optional(Type.Boolean()),
});
export type AcquireRequest = Static<typeof AcquireRequest>;

export const AcquireReply = Type.Object({
  claimId: Id,
  engine: EngineRecord,
});
export type AcquireReply = Static<typeof AcquireReply>;

/** Give back one claim. */
export const ClaimRelease = Type.Object({ engineId: Id, claimId: Id });
export type ClaimRelease = Static<typeof ClaimRelease>;

/**
 * Give back every claim a proxy instance holds, on every engine: a restarted proxy frees what its killed
 * predecessor held instead of leaving it to the claim TTL.
 */
export const ProxyRelease = Type.Object({ proxyId: Id, all: Type.Literal(true) });
export type ProxyRelease = Static<typeof ProxyRelease>;

export const ReleaseRequest = Type.Union([ClaimRelease, ProxyRelease]);
export type ReleaseRequest = Static<typeof ReleaseRequest>;

/** `count`: how many claims were dropped. */
export const ReleaseReply = Type.Object({ released: Type.Boolean(), count: Type.Integer({ minimum: 0 }) });
export type ReleaseReply = Static<typeof ReleaseReply>;

export const ListReply = Type.Object({ engines: Type.Array(EngineRecord) });
export type ListReply = Static<typeof ListReply>;

export const EndReason = Type.Union([
  Type.Literal('client_disconnected'),
  Type.Literal('engine_timeout'),
  Type.Literal('first_byte_timeout'),
  Type.Literal('empty_timeout'),
  Type.Literal('engine_eof'),
  Type.Literal('engine_error'),
  Type.Literal('content_unavailable'),
  Type.Literal('slow_client'),
  Type.Literal('linger_expired'),
  /** It lingered with no player and gave its engine to a new channel when the fleet was full. */
  Type.Literal('linger_reclaimed'),
  Type.Literal('shutdown'),
  /** The engine was drained and no other engine could take the stream in time. */
  Type.Literal('engine_drained'),
  /** The engine no longer knows the session (health-monitor reported it stale). */
  Type.Literal('session_expired'),
  /** The engine answered with something that is not MPEG-TS (an error page, another container, noise). */
  Type.Literal('bad_media'),
  /** An operator stopped it (DELETE /api/streams/:id). */
  Type.Literal('stopped'),
  /** Ended by stats: the proxy stopped answering presence for too long, or came back as a new instance. */
  Type.Literal('proxy_lost'),
  /** The engine's video stopped while its audio went on (a frozen picture), and no other engine took over. */
  Type.Literal('video_frozen'),
  /** The engine's audio stopped while its video went on, and no other engine took over. */
  Type.Literal('audio_frozen'),
]);
export type EndReason = Static<typeof EndReason>;

export const StreamStarted = Type.Object({
  streamId: Id,
  content: ContentRef,
  engineId: Id,
  proxyId: Id,
  startedAt: IsoTime,
  /** The engine session's stat URL, for the health monitor's per-stream polling. */
  statUrl: Type.Optional(Type.String({ maxLength: 2000 })),
});
export type StreamStarted = Static<typeof StreamStarted>;

export const StreamEnded = Type.Object({
  streamId: Id,
  content: ContentRef,
  engineId: Id,
  proxyId: Id,
  startedAt: IsoTime,
  endedAt: IsoTime,
  reason: EndReason,
  bytesIn: Type.Integer({ minimum: 0 }),
  bytesOut: Type.Integer({ minimum: 0 }),
  peakClients: Type.Integer({ minimum: 0 }),
});
export type StreamEnded = Static<typeof StreamEnded>;

export const MoveReason = Type.Union([
  /** The engine failed the stream (died, ended it, stalled, sent bad media). */
  Type.Literal('failover'),
  /** The engine is being drained. */
  Type.Literal('drain'),
  /**
   * The engine has no room left for the stream's claim (the manager gave a hot standby's room to a new
   * channel as the stream switched onto it): moved to an engine with room, make-before-break.
   */
  Type.Literal('no_room'),
  /** The engine's video stopped while the rest of the stream flowed. */
  Type.Literal('video_frozen'),
  /** The engine's audio stopped while the rest of the stream flowed. */
  Type.Literal('audio_frozen'),
]);
export type MoveReason = Static<typeof MoveReason>;

/** A stream (TS or HLS) now plays from another engine, with the same stream id and players. */
export const StreamMoved = Type.Object({
  streamId: Id,
  content: ContentRef,
  proxyId: Id,
  /** The engine the stream left. */
  previousEngineId: Id,
  /** The engine it plays on now. */
  engineId: Id,
  /** The new engine session's stat URL: the health monitor polls it from now on. */
  statUrl: Type.String({ maxLength: 2000 }),
  /** From the last byte of the previous engine to the first byte of the new one. */
  gapMs: Type.Integer({ minimum: 0 }),
  reason: MoveReason,
  at: IsoTime,
});
export type StreamMoved = Static<typeof StreamMoved>;

export const HealthStatus = Type.Union([Type.Literal('healthy'), Type.Literal('unhealthy')]);
export type HealthStatus = Static<typeof HealthStatus>;

export const EngineHealth = Type.Object({
  engineId: Id,
  status: HealthStatus,
  previous: Type.Union([HealthStatus, Type.Literal('unknown')]),
  consecutiveFailures: Type.Integer({ minimum: 0 }),
  detail: Type.String({ maxLength: 500 }),
  at: IsoTime,
});
export type EngineHealth = Static<typeof EngineHealth>;

/** The error body on HTTP and in NATS service-error replies. */
export const ErrorEnvelope = Type.Object({
  error: Type.Object({
    code: Type.String({ maxLength: 64 }),
    message: Type.String({ maxLength: 2000 }),
    retryAfterMs: Type.Optional(Type.Integer({ minimum: 0 })),
  }),
});

/**
 * Validate a value at a process boundary. Throws an AcefleetError(invalid_message) that names the first
 * offending field, so a caller sees what was wrong rather than a generic failure.
 */
export function parseMessage<T extends TSchema>(schema: T, value: unknown, what: string): Static<T> {
  if (Value.Check(schema, value)) return value;
  const first = Value.Errors(schema, value).First();
  const where = first?.path || '/';
  const detail = first ? `${where}: ${first.message}` : 'does not match its schema';
  throw new AcefleetError('invalid_message', `invalid ${what}: ${detail}`);
}

/** Decode a JSON payload and validate it; bad JSON and bad shape both end in invalid_message. */
export function decodeMessage<T extends TSchema>(
  schema: T,
  data: Uint8Array | string,
  what: string,
): Static<T> {
  let value: unknown;
  try {
    value = JSON.parse(typeof data === 'string' ? data : new TextDecoder().decode(data));
  } catch (cause) {
    throw new AcefleetError('invalid_message', `invalid ${what}: not JSON`, { cause });
  }
  return parseMessage(schema, value, what);
}

/**
 * parseMessage for one schema, compiled once: for readers that check thousands of values in a row (a KV
 * mirror loading 10 000 channels), where the interpreted check costs ~0.3 ms a value.
 */
export function compiledParser<T extends TSchema>(schema: T, what: string): (value: unknown) => Static<T> {
  const check = TypeCompiler.Compile(schema);
  return (value) => {
    if (check.Check(value)) return value;
    const first = check.Errors(value).First();
    const detail = first ? `${first.path || '/'}: ${first.message}` : 'does not match its schema';
    throw new AcefleetError('invalid_message', `invalid ${what}: ${detail}`);
  };
}
