import { Type, type Static } from '@sinclair/typebox';
import { ContentRef, Id } from './schemas.ts';
import { Subjects } from './subjects.ts';

/** Subject of an endpoint of the edge proxy instance `instanceId` (its $SRV.INFO metadata `instance`). */
export function proxySubject(instanceId: string, endpoint: 'streams' | 'stop'): string {
  return `${Subjects.proxyPrefix}.${instanceId}.${endpoint}`;
}

const Count = Type.Integer({ minimum: 0 });

/** One stream as its proxy sees it (GET /api/streams and the `streams` endpoint alike). */
export const ProxyStream = Type.Object({
  kind: Type.Union([Type.Literal('ts'), Type.Literal('hls')]),
  streamId: Id,
  content: ContentRef,
  engineId: Type.Union([Id, Type.Null()]),
  /** MPEG-TS only: starting, playing, recovering, lingering or ended. */
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

/** An operator stops a stream: its players are cut off and it ends with reason `stopped`. */
export const StopStreamRequest = Type.Object({ streamId: Id });
export type StopStreamRequest = Static<typeof StopStreamRequest>;

export const StopStreamReply = Type.Object({ streamId: Id, reason: Type.Literal('stopped') });
export type StopStreamReply = Static<typeof StopStreamReply>;
