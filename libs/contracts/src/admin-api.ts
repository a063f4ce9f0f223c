import { Type, type Static } from '@sinclair/typebox';
import { EngineRecord, Id, IsoTime } from './schemas.ts';

/**
 * Stop one stream on the proxy playing it (`proxySubject(proxyId, 'stop')`): by the proxy's stream id, or by
 * the claim it holds on its engine (what the engine manager knows). Its players are cut off; it ends `stopped`.
 */
export const StopStreamRequest = Type.Union([
  Type.Object({ streamId: Id }, { additionalProperties: false }),
  Type.Object({ claimId: Id }, { additionalProperties: false }),
]);
export type StopStreamRequest = Static<typeof StopStreamRequest>;

export const StopStreamReply = Type.Object({ streamId: Id, reason: Type.Literal('stopped') });
export type StopStreamReply = Static<typeof StopStreamReply>;

/**
 * A stream as the engine manager sees it: one claim a proxy holds on an engine. The id is the claim id; a
 * stream that moves to another engine takes a new claim (and so a new id here).
 */
export const ClaimedStream = Type.Object({
  id: Id,
  engineId: Id,
  hostId: Id,
  proxyId: Id,
  /** `id:<hex>` or `infohash:<hex>`. */
  contentKey: Type.String({ maxLength: 64 }),
  claimedAt: IsoTime,
  renewedAt: Type.Optional(IsoTime),
});
export type ClaimedStream = Static<typeof ClaimedStream>;

export const StreamsReply = Type.Object({ streams: Type.Array(ClaimedStream) });
export type StreamsReply = Static<typeof StreamsReply>;

/** Bring this host to `replicas` usable engines now: provision the missing ones, or drain the surplus. */
export const ScaleRequest = Type.Object({ replicas: Type.Integer({ minimum: 0, maximum: 1000 }) });
export type ScaleRequest = Static<typeof ScaleRequest>;

export const ScaleReply = Type.Object({
  replicas: Type.Integer({ minimum: 0 }),
  provisioned: Type.Array(EngineRecord),
  draining: Type.Array(EngineRecord),
});
export type ScaleReply = Static<typeof ScaleReply>;

/** The VPN this host's engines go through (Gluetun), or `enabled: false` when engines use no VPN. */
export const VpnReply = Type.Object({
  enabled: Type.Boolean(),
  up: Type.Optional(Type.Boolean()),
  /** Gluetun's forwarded port; 0 while none is forwarded. */
  forwardedPort: Type.Optional(Type.Integer({ minimum: 0 })),
  reason: Type.Optional(Type.String()),
});
export type VpnReply = Static<typeof VpnReply>;
