import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { Catalog } from './catalog.ts';
import type { GuideCache } from './guide-cache.ts';
import { PlaylistFile } from './playlist-file.ts';
import { publicAddress, tokenParam } from './public-address.ts';

const PlaylistQuery = Type.Object({
  format: Type.Optional(Type.Union([Type.Literal('ts'), Type.Literal('hls')])),
  group: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  token: Type.Optional(Type.String()),
});
type PlaylistQuery = Static<typeof PlaylistQuery>;

/** Rendered playlists kept, by what they depend on: a 10 000-channel list is built once, not per request. */
const RENDERED_KEPT = 4;

/** GET /playlist.m3u and GET /epg.xml: what IPTV players (VLC, Kodi, TiviMate) and media servers load. */
export function catalogRoutes(
  app: FastifyInstance,
  catalog: Catalog,
  guide: GuideCache,
  publicUrl: string,
): void {
  const file = new PlaylistFile();
  const rendered = new Map<string, Buffer>();
  const playlistOf = (req: FastifyRequest<{ Querystring: PlaylistQuery }>): Buffer => {
    const directory = catalog.channels();
    const base = publicAddress(req, publicUrl);
    const format = req.query.format ?? 'ts';
    const group = req.query.group?.toLowerCase();
    const token = tokenParam(req, '&');
    const key = [directory.version, base, format, group ?? '', token].join('\n');
    const cached = rendered.get(key);
    if (cached !== undefined) return cached;
    const text = Buffer.from(
      file.text(() => directory.channels(), directory.version, { base, format, token }, group),
    );
    if (rendered.size >= RENDERED_KEPT) rendered.delete(rendered.keys().next().value!);
    rendered.set(key, text);
    return text;
  };

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
}
