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
import { Admission } from './admission.ts';
import { ControlLink } from './control-link.ts';
import { EngineCache } from './engine-cache.ts';
import { EngineCooldown } from './engine-cooldown.ts';
import { EngineHealthFollower } from './engine-health-follower.ts';
import { EngineSource } from './engine-source.ts';
import { FairShare } from './fair-share.ts';
import { StreamHub } from './hub.ts';
import { takeOverInstanceFile } from './predecessor.ts';
import { tunerRoom } from './tuner-room.ts';
import { createProxyMetrics } from './metrics.ts';
import { streamsView } from './operator-view.ts';
import { RingMemory } from './ring-memory.ts';
import { adminRoutes, stopStream } from './routes/admin-routes.ts';
import { HlsHub, hlsRoutes } from './routes/hls-routes.ts';
import { requestLimits } from './routes/request-limits.ts';
import { statusRoutes } from './routes/status-routes.ts';
import { streamRoutes } from './routes/stream-routes.ts';

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
  }));
  const cooldown = new EngineCooldown(config.engineCooldownMs);
  const share = new FairShare(log);
  const engines = new EngineSource(
    undefined,
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
        lingerMs: config.lingerMs,
        failoverDeadlineMs: config.failoverDeadlineMs,
        startRetries: config.startRetries,
        startPatienceMs: config.startPatienceMs,
        engineCallTimeoutMs: config.engineCallTimeoutMs,
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
    tunerRoom: () => tunerRoom(cache.records(), streams.all().length + hls.all().length, config.maxStreams),
  });
  const admission = new Admission(
    config,
    {
      streams: () => streams.all().length + hls.all().length,
      players: () => streams.clientCount(),
      ringMemoryFull: () => ringMemory.isFull,
    },
    share,
  );
  streamRoutes(http, streams, admission, catalog.players, () => closing);
  const hls = new HlsHub({
    engines,
    events,
    log,
    proxyId,
    onViewersChanged: (session) => control?.viewersChanged(session),
    settings: {
      engineStartTimeoutMs: config.engineStartTimeoutMs,
      engineCallTimeoutMs: config.engineCallTimeoutMs,
      firstByteTimeoutMs: config.firstByteTimeoutMs,
      emptyTimeoutMs: config.emptyTimeoutMs,
      stallFailoverMs: config.stallFailoverMs,
      failoverDeadlineMs: config.failoverDeadlineMs,
      startRetries: config.startRetries,
      startPatienceMs: config.startPatienceMs,
      idleMs: Math.max(config.lingerMs, config.hlsIdleMs),
    },
  });
  hlsRoutes(http, hls, admission, catalog.players, config.waitHeadMs);
  statusRoutes(http, streams, hls);
  adminRoutes(http, streams, hls);
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
    control = new ControlLink(nc, streams, hls, engines, events, log, {
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
      await service?.stop().catch(() => {});
      streams.closeAll('shutdown');
      hls.closeAll();
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
      async () => streamsView(streams, hls),
    );
    addJsonEndpoint(
      service,
      log,
      { name: 'stop', subject: proxySubject(proxyId, 'stop'), request: StopStreamRequest },
      async (req) => stopStream(streams, hls, req),
    );
    addJsonEndpoint(
      service,
      log,
      { name: 'players', subject: proxySubject(proxyId, 'players'), request: Type.Object({}) },
      async () => ({ players: catalog.players.list() }),
    );
  }
}
