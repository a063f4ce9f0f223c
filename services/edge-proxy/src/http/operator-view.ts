import type { ProxyStream, ProxyStreamsReply } from '@acefleet/contracts';
import type { StreamHub } from '../session/hub.ts';

/**
 * Everything the proxy knows per stream, for operators (GET /api/streams and the `streams` endpoint), in one
 * walk of the hub. A stream with HLS players is listed under `hls` too, with their count and requests: the
 * same stream id, the same engine session.
 */
export function streamsView(hub: StreamHub): ProxyStreamsReply {
  const streams: ProxyStream[] = [];
  const hls: ProxyStream[] = [];
  const now = Date.now();
  for (const s of hub.all()) {
    const common = {
      streamId: s.id,
      content: s.content,
      engineId: s.engineId ?? null,
      ...(s.currentLease && { claimId: s.currentLease.claimId }),
      ...(s.standbyEngineId && { standbyEngineId: s.standbyEngineId }),
      ...(s.standbyLease && { standbyClaimId: s.standbyLease.claimId }),
      state: s.state,
      bytesIn: s.bytesIn,
      ageMs: now - s.startedAt.getTime(),
    };
    streams.push({
      ...common,
      kind: 'ts',
      clients: s.clientCount,
      peakClients: s.peakClients,
      bytesOut: s.bytesOut,
      bufferedBytes: s.bufferedBytes,
    });
    const output = s.hls;
    if (output) {
      hls.push({
        ...common,
        kind: 'hls',
        clients: output.viewers.size,
        peakClients: output.viewers.peakClients,
        requests: output.viewers.requests,
        bytesOut: output.viewers.bytesOut,
        bufferedBytes: output.segmenter.heldBytes,
      });
    }
  }
  return { streams, hls };
}
