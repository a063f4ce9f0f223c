import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { AcefleetError, Id, type StopStreamReply, type StopStreamRequest } from '@acefleet/contracts';
import type { StreamHub } from '../session/hub.ts';

const StreamParams = Type.Object({ id: Id });

/**
 * End one stream (MPEG-TS or HLS) with reason `stopped`, found by its stream id or by the engine claim it
 * holds; its players are cut off. Served on HTTP below and on NATS (`proxySubject(id, 'stop')`).
 */
export function stopStream(hub: StreamHub, req: StopStreamRequest): StopStreamReply {
  const streams = hub.all();
  const stream =
    'streamId' in req
      ? streams.find((s) => s.id === req.streamId)
      : streams.find((s) => s.currentLease?.claimId === req.claimId);
  if (!stream) {
    const what = 'streamId' in req ? `stream ${req.streamId}` : `stream holding claim ${req.claimId}`;
    throw new AcefleetError('stream_not_found', `no ${what}`);
  }
  stream.end('stopped');
  return { streamId: stream.id, reason: 'stopped' };
}

/**
 * DELETE /api/streams/:id: an operator stops a stream (the `streamId` of GET /api/streams). The access
 * policy asks for the API key.
 */
export function adminRoutes(app: FastifyInstance, hub: StreamHub): void {
  app.delete<{ Params: Static<typeof StreamParams> }>(
    '/api/streams/:id',
    { schema: { params: StreamParams } },
    async (req) => stopStream(hub, { streamId: req.params.id }),
  );
}
