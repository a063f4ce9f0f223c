import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { Catalog } from './catalog.ts';
import type { GuideCache } from './guide-cache.ts';
import { PlaylistCache } from './playlist-cache.ts';
import { publicAddress, tokenParam } from './public-address.ts';

const PlaylistQuery = Type.Object({
  format: Type.Optional(Type.Union([Type.Literal('ts'), Type.Literal('hls')])),
  group: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  token: Type.Optional(Type.String()),
});
type PlaylistQuery = Static<typeof PlaylistQuery>;

/**
 * GET /playlist.m3u and GET /epg.xml: what IPTV players (VLC, Kodi, TiviMate) and media servers load. The
 * playlists are kept and refreshed ahead (PlaylistCache): stop() ends the refresher.
 */
export function catalogRoutes(
  app: FastifyInstance,
  catalog: Catalog,
  guide: GuideCache,
  publicUrl: string,
): { stop(): void } {
  const playlists = new PlaylistCache(() => catalog.loaded());
  const playlistOf = (req: FastifyRequest<{ Querystring: PlaylistQuery }>): Buffer =>
    playlists.get(catalog.channels(), {
      base: publicAddress(req, publicUrl),
      format: req.query.format ?? 'ts',
      token: tokenParam(req, '&'),
      ...(req.query.group ? { group: req.query.group.toLowerCase() } : {}),
    });

  app.get<{ Querystring: PlaylistQuery }>(
    '/playlist.m3u',
    {
      schema: {
        summary: 'Every channel as an extended M3U (?format=hls for HLS URLs, ?group= to filter)',
        querystring: PlaylistQuery,
      },
    },
    async (req, reply) =>
      reply
        .type('audio/x-mpegurl; charset=utf-8')
        .header('cache-control', 'no-cache')
        .header('content-disposition', 'inline; filename="acefleet.m3u"')
        .send(playlistOf(req)),
  );

  app.get<{ Querystring: { token?: string } }>(
    '/epg.xml',
    { schema: { summary: 'The XMLTV guides named by the playlist sources, merged' } },
    async (_req, reply) => {
      const urls = [
        ...new Set(
          catalog
            .channels()
            .sources()
            .flatMap((s) => s.guideUrls),
        ),
      ];
      return reply
        .type('application/xml; charset=utf-8')
        .header('cache-control', 'no-cache')
        .send(await guide.xml(urls));
    },
  );
  return { stop: () => playlists.stop() };
}
