import type { ProxyStreamsReply } from '@acefleet/contracts';
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
      ...(s.currentLease && { claimId: s.currentLease.claimId }),
      state: s.state,
      clients: s.clientCount,
      peakClients: s.peakClients,
      bytesIn: s.bytesIn,
      bytesOut: s.bytesOut,
      bufferedBytes: s.bufferedBytes,
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
