import type { FastifyInstance } from 'fastify';
import {
  isLoopbackHost,
  rejectOtherMethods,
  type EventPublisher,
  type Logger,
  type NatsConnection,
} from '@acefleet/platform';
import { PlayerGate } from '../players/player-gate.ts';
import { PlayerSessions } from '../players/player-sessions.ts';
import type { ProxyConfig } from '../config.ts';
import { catalogAdminRoutes } from './catalog-admin-routes.ts';
import { listOf } from './catalog-config.ts';
import { Catalog } from './catalog.ts';
import { catalogRoutes } from './catalog-routes.ts';
import { GuideCache } from './guide-cache.ts';
import { HDHOMERUN_ROUTES, hdhomerunRoutes } from './hdhomerun-routes.ts';
import { PlaylistSources } from './playlist-sources.ts';

/** The player routes the gate guards (route URL patterns): streams, HLS, status, playlist, guide, tuner. */
const PLAYER_ROUTES = new Set([
  '/ace/getstream',
  '/ace/getstream/',
  '/ace/manifest.m3u8',
  '/ace/hls/:session/live.m3u8',
  '/ace/hls/:session/:segment',
  '/ace/status',
  '/playlist.m3u',
  '/epg.xml',
  ...HDHOMERUN_ROUTES,
]);

/** Path prefixes the API-key policy leaves open: the gate guards them with player tokens instead. */
export const PLAYER_PATHS = [
  '/ace/',
  '/playlist.m3u',
  '/epg.xml',
  '/discover.json',
  '/lineup',
  '/device.xml',
  '/hdhr/',
];

export interface PlayerCatalog {
  players: PlayerSessions;
  /** Load channels and tokens, start PLAYLIST_SOURCES: a NATS set-up step. */
  connect(nc: NatsConnection): Promise<void>;
  close(): Promise<void>;
}

/**
 * Everything players, playlists and media servers get beside the streams: the player gate (PLAYER_AUTH,
 * tokens), player sessions, /playlist.m3u, /epg.xml, the HDHomeRun tuner, the admin API of channels and
 * tokens, and PLAYLIST_SOURCES. Installed on `app` before the stream routes, which read playerOf(req).
 */
export function installPlayerCatalog(
  app: FastifyInstance,
  config: ProxyConfig,
  deps: { events: EventPublisher; log: Logger; proxyId: string; tunerRoom: () => number },
): PlayerCatalog {
  const { log } = deps;
  const players = new PlayerSessions({
    events: deps.events,
    proxyId: deps.proxyId,
    hlsIdleMs: config.hlsIdleMs,
    log,
  });
  const catalog = new Catalog(log, (name) => {
    if (!config.revokeEndsPlayback) return;
    const cut = players.cutToken(name);
    if (cut > 0) log.info({ tokenName: name, players: cut }, 'player token revoked: its players cut off');
  });
  const required =
    config.playerAuth === 'required' || (config.playerAuth === 'auto' && !isLoopbackHost(config.httpHost));
  new PlayerGate({
    mode: required ? 'required' : 'off',
    maxStreamsPerClient: config.maxStreamsPerClient,
    tokens: () => catalog.tokens,
    guards: (url) => PLAYER_ROUTES.has(url),
  }).install(app);
  log.info({ playerAuth: required ? 'required' : 'off' }, 'player access');

  const limits = {
    timeoutMs: config.sourceTimeoutMs,
    maxBytes: config.playlistMaxBytes,
    userAgent: 'acefleet',
  };
  const guide = new GuideCache(
    { timeoutMs: config.sourceTimeoutMs, maxBytes: config.guideMaxBytes, cacheMs: config.guideCacheMs },
    log,
  );
  const playlists = catalogRoutes(app, catalog, guide, config.publicUrl);
  hdhomerunRoutes(app, catalog, {
    friendlyName: config.hdhrFriendlyName,
    deviceId: config.hdhrDeviceId,
    tunerCount: config.hdhrTunerCount,
    tunerRoom: deps.tunerRoom,
    publicUrl: config.publicUrl,
  });
  catalogAdminRoutes(app, catalog, players, limits);
  const posts = HDHOMERUN_ROUTES.filter((url) => url.endsWith('/lineup.post'));
  const gets = ['/playlist.m3u', '/epg.xml', ...HDHOMERUN_ROUTES.filter((url) => !posts.includes(url))];
  rejectOtherMethods(app, [...gets, '/api/players']);
  rejectOtherMethods(app, [...posts, '/api/channels/import'], ['POST']);
  rejectOtherMethods(app, ['/api/channels'], ['GET', 'HEAD', 'DELETE']);
  rejectOtherMethods(app, ['/api/tokens'], ['GET', 'HEAD', 'POST']);
  const sources = new PlaylistSources(
    listOf(config.playlistSources),
    limits,
    config.playlistRefreshMs,
    log,
    () => catalog.channels().byKey(),
  );

  return {
    players,
    async connect(nc) {
      await catalog.connect(nc);
      sources.start(nc);
    },
    async close() {
      playlists.stop();
      await sources.stop();
      players.close();
      await catalog.close();
    },
  };
}
