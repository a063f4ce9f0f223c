import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import {
  AcefleetError,
  AddTokenReply,
  AddTokenRequest,
  ChannelsReply,
  ImportReport,
  ImportRequest,
  ProxyPlayersReply,
  RemoveChannelsReply,
  TokenInfo,
  TokensReply,
} from '@acefleet/contracts';
import {
  importPlaylist,
  importSource,
  parseM3u,
  readChannels,
  readSources,
  removeChannels,
  type SourceLimits,
} from '@acefleet/channels';
import { addToken, listTokens, openTokensKv, revokeToken } from '@acefleet/player-tokens';
import type { PlayerSessions } from '../players/player-sessions.ts';
import type { Catalog } from './catalog.ts';

const ChannelParams = Type.Object({ channel: Type.String({ minLength: 1, maxLength: 200 }) });
const SourceQuery = Type.Object({ source: Type.String({ minLength: 1, maxLength: 2000 }) });
const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) });

/**
 * The admin API of channels, player tokens and players (the access policy asks for the API key on every
 * write, and on reads off loopback). The same operations as `acefleet channels|tokens|sessions`, which write
 * the buckets directly with the operator's NATS login.
 */
export function catalogAdminRoutes(
  app: FastifyInstance,
  catalog: Catalog,
  players: PlayerSessions,
  limits: SourceLimits,
): void {
  app.get(
    '/api/channels',
    { schema: { summary: 'Every channel, and the playlist sources', response: { 200: ChannelsReply } } },
    async () => {
      const nc = catalog.connection();
      const [channels, sources] = await Promise.all([readChannels(nc), readSources(nc)]);
      return {
        channels: [...channels.values()].sort((a, b) => a.number - b.number),
        sources: [...sources.values()],
      };
    },
  );
  app.post<{ Body: ImportRequest }>(
    '/api/channels/import',
    {
      bodyLimit: limits.maxBytes + 64 * 1024,
      schema: {
        summary:
          'Import an M3U playlist: {source} (a file or URL the proxy reads) or {name, playlist} (its text); a re-import of a source updates it',
        body: ImportRequest,
        response: { 200: ImportReport },
      },
    },
    async (req) => {
      const nc = catalog.connection();
      const current = catalog.channels().byKey();
      if ('source' in req.body) return importSource(nc, req.body.source, limits, current);
      if (Buffer.byteLength(req.body.playlist) > limits.maxBytes) {
        throw new AcefleetError('source_too_large', `the playlist is larger than ${limits.maxBytes} bytes`);
      }
      return importPlaylist(nc, `upload:${req.body.name}`, parseM3u(req.body.playlist), current);
    },
  );
  app.delete<{ Params: Static<typeof ChannelParams> }>(
    '/api/channels/:channel',
    {
      schema: {
        summary: 'Remove a channel, by name or by content id / infohash',
        params: ChannelParams,
        response: { 200: RemoveChannelsReply },
      },
    },
    async (req) => ({ removed: await removeChannels(catalog.connection(), { channel: req.params.channel }) }),
  );
  app.delete<{ Querystring: Static<typeof SourceQuery> }>(
    '/api/channels',
    {
      schema: {
        summary: 'Remove every channel of a playlist source (as GET /api/channels names it)',
        querystring: SourceQuery,
        response: { 200: RemoveChannelsReply },
      },
    },
    async (req) => ({ removed: await removeChannels(catalog.connection(), { source: req.query.source }) }),
  );

  app.get(
    '/api/tokens',
    { schema: { summary: 'Player tokens, by name (never the tokens)', response: { 200: TokensReply } } },
    async () => ({ tokens: await listTokens(await openTokensKv(catalog.connection())) }),
  );
  app.post<{ Body: AddTokenRequest }>(
    '/api/tokens',
    {
      schema: {
        summary: 'Make a player token; the answer is the only place it is ever shown',
        body: AddTokenRequest,
        response: { 201: AddTokenReply },
      },
    },
    async (req, reply) =>
      reply.code(201).send(await addToken(await openTokensKv(catalog.connection()), req.body)),
  );
  app.delete<{ Params: Static<typeof NameParams> }>(
    '/api/tokens/:name',
    {
      schema: {
        summary: 'Revoke a player token: every proxy refuses it within a second',
        params: NameParams,
        response: { 200: TokenInfo },
      },
    },
    async (req) => revokeToken(await openTokensKv(catalog.connection()), req.params.name),
  );

  app.get(
    '/api/players',
    {
      schema: {
        summary:
          "This proxy's players: who (token name or address, user agent) watches what, since when, bytes",
        response: { 200: ProxyPlayersReply },
      },
    },
    async () => ({ players: players.list() }),
  );
}
