import { AcefleetError, type ProxyStreamsReply, type StopStreamReply } from '@acefleet/contracts';
import type { StreamHub } from './hub.ts';
import type { HlsHub } from './routes/hls-routes.ts';

/** Everything the proxy knows per stream, for operators (GET /api/streams and the `streams` endpoint). */
export function streamsView(hub: StreamHub, hls: HlsHub): ProxyStreamsReply {
  return {
    streams: hub.all().map((s) => ({
      kind: 'ts',
      streamId: s.id,
      content: s.content,
      engineId: s.engineId ?? null,
      state: s.state,
      clients: s.clientCount,
      peakClients: s.peakClients,
      bytesIn: s.bytesIn,
      bytesOut: s.bytesOut,
      bufferedBytes: s.ring.bytes,
      ageMs: Date.now() - s.startedAt.getTime(),
    })),
    hls: hls.all().map((s) => ({
      kind: 'hls',
      streamId: s.id,
      content: s.content,
      engineId: s.engineId ?? null,
      clients: s.viewers.size,
      peakClients: s.peakClients,
      requests: s.requests,
      bytesIn: s.bytesIn,
      bytesOut: s.bytesOut,
      ageMs: Date.now() - s.startedAt.getTime(),
    })),
  };
}

/** An operator stops a stream (MPEG-TS or HLS): its players are cut off and it ends with reason `stopped`. */
export function stopStream(hub: StreamHub, hls: HlsHub, id: string): StopStreamReply {
  const stream = hub.all().find((s) => s.id === id) ?? hls.get(id);
  if (!stream) throw new AcefleetError('stream_not_found', `no stream ${id}`);
  stream.end('stopped');
  return { streamId: id, reason: 'stopped' };
}
