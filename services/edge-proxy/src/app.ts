import type { FastifyInstance } from 'fastify';
import type { Service } from '@nats-io/services';
import { NatsUsers, ServiceNames, StopStreamRequest, proxyIdOf, proxySubject } from '@acefleet/contracts';
import {
  addJsonEndpoint,
  addMicroService,
  buildHttpApp,
  createRegistry,
  rejectOtherMethods,
  EventPublisher,
  engineAddressFilter,
  openEnginesKv,
  type Logger,
  type NatsConnection,
  type NatsLink,
} from '@acefleet/platform';
import { EngineTable } from '@acefleet/engine-records';
import { Type } from '@sinclair/typebox';
import { installPlayerCatalog, PLAYER_PATHS } from './catalog/player-catalog.ts';
import { checkProxyConfig, engineAddressRulesOf, staticEnginesOf, type ProxyConfig } from './config.ts';
import { Admission } from './admission/admission.ts';
import { ControlLink } from './control-link.ts';
import { EngineCache } from './engines/engine-cache.ts';
import { EngineCooldown } from './engines/engine-cooldown.ts';
import { EngineHealthFollower } from './engines/engine-health-follower.ts';
import { EngineSource } from './engines/engine-source.ts';
import { FairShare } from './admission/fair-share.ts';
import { StreamHub } from './session/hub.ts';
import { takeOverInstanceFile } from './engines/predecessor.ts';
import { tunerRoom } from './catalog/tuner-room.ts';
import { createProxyMetrics } from './metrics.ts';
import { streamsView } from './http/operator-view.ts';
import { RingMemory } from './fanout/ring-memory.ts';
import { adminRoutes, stopStream } from './http/admin-routes.ts';
import { hlsRoutes } from './http/hls-routes.ts';
import { requestLimits } from './http/request-limits.ts';
import { statusRoutes } from './http/status-routes.ts';
import { streamRoutes } from './http/stream-routes.ts';

export interface EdgeProxy {
  http: FastifyInstance;
  hub: StreamHub;
  events: EventPublisher;
  /** Register the micro service once NATS is connected (call once HTTP listens, before link.start()). */
  serve(httpAddress: string): void;
  /** Stop taking players, end every stream (reason shutdown), flush events, close HTTP. */
  close(): Promise<void>;
}

/**
 * Build the proxy. It serves at once, NATS or not: engines come from the manager once `link` connects, and
 * until then from the engine cache on disk and the static engines. What needs NATS (the engines table, the
 * engine-health follower, the control link, the micro service) is registered on `link` and set up when it
 * connects. Settings that contradict each other throw a ConfigError.
 */
export function buildEdgeProxy(config: ProxyConfig, link: NatsLink, log: Logger): EdgeProxy {
  checkProxyConfig(config);
  // Its NATS user names it; only that user may publish the subjects that carry this id (permissions.ts).
  const proxyId = proxyIdOf(config.natsUser || NatsUsers.edgeProxy, config.instanceId);
  const registry = createRegistry(ServiceNames.edgeProxy);
  const cache = new EngineCache(config.engineCacheFile, log);
  let table: EngineTable | undefined;
  const metrics = createProxyMetrics(registry, () => ({
    clients: streams.clientCount(),
    streams: streams.all().length,
    standbys: streams.all().filter((s) => s.standbyLease).length,
  }));
  const cooldown = new EngineCooldown(config.engineCooldownMs);
  const share = new FairShare(log);
  const engines = new EngineSource(
    cache,
    {
      proxyId,
      requestTimeoutMs: config.acquireTimeoutMs,
      fallbackMs: config.acquireFallbackMs,
      staticEngines: staticEnginesOf(config),
      staticEngineCapacity: config.staticEngineCapacity,
      engineAllowed: engineAddressFilter(engineAddressRulesOf(config), log, 'chosen by the proxy'),
      reclaimEngine: () => share.reclaimOldest(),
    },
    log,
    metrics,
    cooldown,
  );
  const predecessor = config.instanceFile
    ? takeOverInstanceFile(config.instanceFile, proxyId, log)
    : undefined;
  if (predecessor) void engines.releasePredecessor(predecessor);
  const events = new EventPublisher(undefined, log, {
    maxPending: config.outboxMaxEvents,
    maxPendingBytes: config.outboxMaxBytes,
    ...(config.outboxDir && { durable: { dir: config.outboxDir, name: ServiceNames.edgeProxy } }),
  });
  const ringMemory = new RingMemory(config.maxRingMemoryBytes);
  const streams: StreamHub = new StreamHub(
    {
      engines,
      events,
      metrics,
      log,
      proxyId,
      memory: ringMemory,
      onViewersChanged: (stream) => control?.viewersChanged(stream),
      settings: {
        ringBytes: config.ringBytes,
        ringSeconds: config.ringSeconds,
        joinWindowMs: config.joinWindowMs,
        joinWindowBytes: config.joinWindowBytes,
        coalesceMs: config.coalesceMs,
        waitHeadMs: config.waitHeadMs,
        engineStartTimeoutMs: config.engineStartTimeoutMs,
        firstByteTimeoutMs: config.firstByteTimeoutMs,
        emptyTimeoutMs: config.emptyTimeoutMs,
        stallFailoverMs: config.stallFailoverMs,
        hotStandbyViewers: config.hotStandbyViewers,
        standbyStallMs: config.standbyStallMs,
        lingerMs: config.lingerMs,
        failoverDeadlineMs: config.failoverDeadlineMs,
        startRetries: config.startRetries,
        startPatienceMs: config.startPatienceMs,
        engineCallTimeoutMs: config.engineCallTimeoutMs,
        hlsFromEngine: config.hlsFromEngine,
        hls: {
          targetSeconds: config.hlsSegmentSeconds,
          playlistSegments: config.hlsPlaylistSegments,
          viewerWindowMs: config.hlsIdleMs,
          firstSegmentWaitMs: config.firstByteTimeoutMs + 10_000,
        },
        viewer: {
          maxBacklogBytes: config.maxClientBacklogBytes,
          slowClientTimeoutMs: config.slowClientTimeoutMs,
        },
      },
    },
    (key) => share.ended(key),
  );
  share.follow(streams);

  let closing = false;
  const http = buildHttpApp({
    logger: log,
    registry,
    access: { ...config, openPaths: PLAYER_PATHS },
    problems: () => link.problems(),
    health: () => ({ ok: !closing, streams: streams.all().length, pendingEvents: events.pending }),
    limits: config,
    openApi: {
      title: 'acefleet edge proxy',
      version: '0.2.0',
      description: 'Players, playlists, tuner and admin API',
    },
    trustProxy: config.trustedProxies,
  });
  requestLimits(http, config);
  const catalog = installPlayerCatalog(http, config, {
    events,
    log,
    proxyId,
    tunerRoom: () => tunerRoom(cache.records(), streams.all().length, config.maxStreams),
  });
  const admission = new Admission(
    config,
    {
      streams: () => streams.all().length,
      players: () => streams.clientCount(),
      ringMemoryFull: () => ringMemory.isFull,
    },
    share,
  );
  streamRoutes(http, streams, admission, catalog.players, () => closing);
  hlsRoutes(http, streams, admission, catalog.players, config.waitHeadMs);
  statusRoutes(http, streams);
  adminRoutes(http, streams);
  let control: ControlLink | undefined;
  let health: EngineHealthFollower | undefined;
  link.onConnect('engines table', async (nc) => {
    table = new EngineTable(await openEnginesKv(nc), log, () => cache.changed());
    await table.start();
    cache.follow(table);
    health = new EngineHealthFollower(nc, cooldown, log);
    health.start();
    engines.attach(nc);
    events.attach(nc);
    control = new ControlLink(nc, streams, engines, events, log, {
      proxyId,
      renewIntervalMs: config.renewIntervalMs,
      viewersDebounceMs: 1000,
    });
    control.start();
  });
  link.onConnect('channels and player tokens', (nc) => catalog.connect(nc));
  rejectOtherMethods(http, ['/ace/getstream', '/ace/manifest.m3u8', '/ace/status', '/api/streams']);

  let service: Service | undefined;
  return {
    http,
    hub: streams,
    events,
    serve(httpAddress) {
      link.onConnect('micro service', (nc) => registerService(nc, httpAddress));
    },
    async close() {
      closing = true;
      control?.stop();
      await health?.stop();
      await engines.stop();
      await service?.stop().catch((err: unknown) => log.warn({ err }, 'micro service did not stop cleanly'));
      streams.closeAll('shutdown');
      await catalog.close();
      await events.drain(5000);
      events.close();
      table?.stop();
      cache.stop();
      await http.close();
    },
  };

  async function registerService(nc: NatsConnection, httpAddress: string): Promise<void> {
    service = await addMicroService(nc, {
      name: ServiceNames.edgeProxy,
      version: '0.1.0',
      description: 'Acexy-compatible HTTP proxy multiplexing AceStream engine sessions',
      httpAddress,
      instanceId: proxyId,
    });
    addJsonEndpoint(
      service,
      log,
      {
        name: 'streams',
        subject: proxySubject(proxyId, 'streams'),
        request: Type.Object({}),
      },
      async () => streamsView(streams),
    );
    addJsonEndpoint(
      service,
      log,
      { name: 'stop', subject: proxySubject(proxyId, 'stop'), request: StopStreamRequest },
      async (req) => stopStream(streams, req),
    );
    addJsonEndpoint(
      service,
      log,
      { name: 'players', subject: proxySubject(proxyId, 'players'), request: Type.Object({}) },
      async () => ({ players: catalog.players.list() }),
    );
  }
}
