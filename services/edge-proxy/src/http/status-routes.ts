import type { FastifyInstance } from 'fastify';
import { AcefleetError } from '@acefleet/contracts';
import type { StreamHub } from '../session/hub.ts';
import { streamsView } from './operator-view.ts';
import { hasSelector } from '../session/selector.ts';
import { playerSelector, type Query } from './player-request.ts';

/** GET /ace/status (Acexy-compatible) and GET /api/streams (everything the proxy knows per stream). */
export function statusRoutes(app: FastifyInstance, hub: StreamHub): void {
  app.get<{ Querystring: Query }>('/ace/status', async (req) => {
    if (!hasSelector(req.query)) {
      return { streams: hub.all().length, total_clients: hub.clientCount() };
    }
    // Output options are part of the stream key: the status of `id=X&transcode_audio=1` is that stream's.
    const { content, key } = playerSelector(req);
    const stream = hub.get(key);
    if (!stream)
      throw new AcefleetError('stream_not_found', `no stream for ${content.kind} ${content.value}`);
    return {
      clients: stream.clientCount,
      id: {
        id: content.kind === 'id' ? content.value : '',
        infohash: content.kind === 'infohash' ? content.value : '',
      },
      stat_url: stream.statUrl ?? '',
    };
  });

  app.get('/api/streams', async () => streamsView(hub));
}
