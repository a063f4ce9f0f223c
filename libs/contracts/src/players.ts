import { Type, type Static } from '@sinclair/typebox';
import { ContentRef, Id, IsoTime } from './schemas.ts';

/**
 * Player tokens: one KV bucket, key = token name, value = `PlayerTokenRecord`. Only the token's SHA-256 is
 * stored; the token itself is shown once, when it is made, and never logged, published or stored.
 */
export const TOKENS_BUCKET = 'acefleet-tokens';
/** The JetStream stream that holds the tokens bucket. */
export const TOKENS_KV_STREAM = `KV_${TOKENS_BUCKET}`;

/** A token's name: also its KV key, so only the characters KV keys take, and not too long to show. */
export const TokenName = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' });

/** Streams one token may play at once when it was made without `--max-streams`. */
export const DEFAULT_TOKEN_MAX_STREAMS = 8;

export const PlayerTokenRecord = Type.Object({
  name: TokenName,
  /** Hex SHA-256 of the token. */
  sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  maxStreams: Type.Integer({ minimum: 1, maximum: 10_000 }),
  createdAt: IsoTime,
});
export type PlayerTokenRecord = Static<typeof PlayerTokenRecord>;

export const AddTokenRequest = Type.Object(
  { name: TokenName, maxStreams: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })) },
  { additionalProperties: false },
);
export type AddTokenRequest = Static<typeof AddTokenRequest>;

/** The only answer that ever holds a token. */
export const AddTokenReply = Type.Object({
  name: TokenName,
  token: Type.String(),
  maxStreams: Type.Integer({ minimum: 1 }),
});
export type AddTokenReply = Static<typeof AddTokenReply>;

/** A token as listed: its name and limits, never the token or its hash. */
export const TokenInfo = Type.Object({ name: TokenName, maxStreams: Type.Integer(), createdAt: IsoTime });
export type TokenInfo = Static<typeof TokenInfo>;

export const TokensReply = Type.Object({ tokens: Type.Array(TokenInfo) });
export type TokensReply = Static<typeof TokensReply>;

/** Who a player is: the token it played with (by name), else its address; and what it says it is. */
export const PlayerIdentity = Type.Object({
  token: Type.Optional(TokenName),
  address: Type.String({ maxLength: 64 }),
  userAgent: Type.String({ maxLength: 300 }),
});
export type PlayerIdentity = Static<typeof PlayerIdentity>;

/**
 * One player session: one player on one stream, from its first request to its last (MPEG-TS: one
 * connection; HLS: polls until the idle window passes). Published by the proxy that serves it.
 */
export const PlayerSessionStarted = Type.Object({
  playerId: Id,
  streamId: Id,
  proxyId: Id,
  kind: Type.Union([Type.Literal('ts'), Type.Literal('hls')]),
  content: ContentRef,
  player: PlayerIdentity,
  startedAt: IsoTime,
});
export type PlayerSessionStarted = Static<typeof PlayerSessionStarted>;

export const PlayerSessionEnded = Type.Object({
  ...PlayerSessionStarted.properties,
  endedAt: IsoTime,
  bytesOut: Type.Integer({ minimum: 0 }),
});
export type PlayerSessionEnded = Static<typeof PlayerSessionEnded>;

/** A proxy's players now (`proxySubject(id, 'players')`), with the bytes each got so far. */
export const ProxyPlayersReply = Type.Object({
  players: Type.Array(Type.Object({ ...PlayerSessionStarted.properties, bytesOut: Type.Integer() })),
});
export type ProxyPlayersReply = Static<typeof ProxyPlayersReply>;
