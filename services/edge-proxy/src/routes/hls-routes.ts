import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AcefleetError, contentKeyOf, type ContentRef } from '@acefleet/contracts';
import { HlsSession, type HlsDeps } from '../hls.ts';
import { parseSelector } from '../selector.ts';

type Query = Record<string, string | string[] | undefined>;

/** The HLS sessions of this proxy: one per content, looked up by content for playlists and by id for segments. */
export class HlsHub {
  private readonly byContent = new Map<string, HlsSession>();
  private readonly byId = new Map<string, HlsSession>();

  constructor(private readonly deps: Omit<HlsDeps, 'onEnded'>) {}

  open(content: ContentRef, extraParams: Record<string, string>): HlsSession {
    const key = contentKeyOf(content);
    const existing = this.byContent.get(key);
    if (existing) return existing;
    const session = new HlsSession(content, extraParams, {
      ...this.deps,
      onEnded: (s) => {
        if (this.byContent.get(key) === s) this.byContent.delete(key);
        this.byId.delete(s.id);
      },
    });
    this.byContent.set(key, session);
    this.byId.set(session.id, session);
    return session;
  }

  get(id: string): HlsSession | undefined {
    return this.byId.get(id);
  }

  all(): HlsSession[] {
    return [...this.byId.values()];
  }

  closeAll(): void {
    for (const s of this.all()) s.end('shutdown');
  }
}

/** HLS players only poll: one is told apart from another by its address and user agent. */
function viewerOf(req: FastifyRequest): string {
  return `${req.ip} ${req.headers['user-agent'] ?? ''}`;
}

/** GET /ace/manifest.m3u8 (Acexy-compatible selection) and the segments it points at. */
export function hlsRoutes(app: FastifyInstance, hub: HlsHub): void {
  app.get<{ Querystring: Query }>('/ace/manifest.m3u8', async (req, reply) => {
    const { content, extraParams } = parseSelector(req.query);
    const session = hub.open(content, extraParams);
    const playlist = await session.playlist(`/ace/hls/${session.id}`, viewerOf(req));
    return reply.type('application/vnd.apple.mpegurl').header('cache-control', 'no-cache').send(playlist);
  });
  app.get<{ Params: { session: string; segment: string } }>(
    '/ace/hls/:session/:segment',
    async (req, reply) => {
      const session = hub.get(req.params.session);
      if (!session)
        throw new AcefleetError('stream_not_found', 'this HLS session has ended; reload the playlist');
      const body = await session.segment(req.params.segment, viewerOf(req));
      return reply.type('video/mp2t').send(body);
    },
  );
}
