import { Type, type Static } from '@sinclair/typebox';
import { ContentRef, Id } from './schemas.ts';

const Count = Type.Integer({ minimum: 0 });

/** One stream as its proxy sees it (GET /api/streams and the `streams` endpoint alike). */
export const ProxyStream = Type.Object({
  kind: Type.Union([Type.Literal('ts'), Type.Literal('hls')]),
  streamId: Id,
  content: ContentRef,
  engineId: Type.Union([Id, Type.Null()]),
  /** The claim the stream holds on its engine (the manager's, or the proxy's own until adopted), if any. */
  claimId: Type.Optional(Id),
  /** The engine of the stream's hot standby session (HOT_STANDBY_VIEWERS), if it has one; its claim. */
  standbyEngineId: Type.Optional(Id),
  standbyClaimId: Type.Optional(Id),
  /** starting, playing, moving (to another engine), lingering or ended. */
  state: Type.Optional(Type.String({ maxLength: 32 })),
  clients: Count,
  peakClients: Count,
  bytesIn: Count,
  bytesOut: Count,
  /** MPEG-TS only: what the stream's ring buffer holds now. */
  bufferedBytes: Type.Optional(Count),
  /** HLS only: playlist and segment requests served. */
  requests: Type.Optional(Count),
  ageMs: Count,
});
export type ProxyStream = Static<typeof ProxyStream>;

export const ProxyStreamsReply = Type.Object({
  streams: Type.Array(ProxyStream),
  hls: Type.Array(ProxyStream),
});
export type ProxyStreamsReply = Static<typeof ProxyStreamsReply>;
