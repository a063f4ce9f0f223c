import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { AcefleetError, Id } from '@acefleet/contracts';
import type { StreamHub } from '../hub.ts';
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
    async (req) => {
      const { id } = req.params;
      const stream = hub.all().find((s) => s.id === id) ?? hls.get(id);
      if (!stream) throw new AcefleetError('stream_not_found', `no stream ${id}`);
      stream.end('stopped');
      return { streamId: id, reason: 'stopped' };
    },
  );
}
