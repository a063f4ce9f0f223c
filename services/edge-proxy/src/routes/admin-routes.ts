import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { Id } from '@acefleet/contracts';
import type { StreamHub } from '../hub.ts';
import { stopStream } from '../operator-view.ts';
import type { HlsHub } from './hls-routes.ts';

const StreamParams = Type.Object({ id: Id });

/**
 * DELETE /api/streams/:id: an operator stops a stream (the `streamId` of GET /api/streams, MPEG-TS or
 * HLS). Its players are cut off and it ends with reason `stopped`. The access policy asks for the API key.
 */
export function adminRoutes(app: FastifyInstance, hub: StreamHub, hls: HlsHub): void {
  app.delete<{ Params: Static<typeof StreamParams> }>(
    '/api/streams/:id',
    { schema: { params: StreamParams } },
    async (req) => stopStream(hub, hls, req.params.id),
  );
}
