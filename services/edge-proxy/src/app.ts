import type { FastifyInstance } from 'fastify';
import type { Service } from '@nats-io/services';
import { ServiceNames, Subjects } from '@acefleet/contracts';
import {
  addJsonEndpoint,
  addMicroService,
  buildHttpApp,
  createRegistry,
  rejectOtherMethods,
  EngineTable,
  EventPublisher,
  openEnginesKv,
  type Logger,
  type NatsConnection,
} from '@acefleet/platform';
import { Type } from '@sinclair/typebox';
import type { ProxyConfig } from './config.ts';
import { Admission } from './admission.ts';
import { ControlLink } from './control-link.ts';
import { EngineCooldown } from './engine-cooldown.ts';
import { EngineHealthFollower } from './engine-health-follower.ts';
import { EngineSource } from './engine-source.ts';
import { StreamHub } from './hub.ts';
import { createProxyMetrics } from './metrics.ts';
import { RingMemory } from './ring-memory.ts';
import { adminRoutes } from './routes/admin-routes.ts';
import { HlsHub, hlsRoutes } from './routes/hls-routes.ts';
import { requestLimits } from './routes/request-limits.ts';
import { statusRoutes } from './routes/status-routes.ts';
import { streamRoutes } from './routes/stream-routes.ts';

export interface EdgeProxy {
  http: FastifyInstance;
  hub: StreamHub;
  events: EventPublisher;
  serve(httpAddress: string): Promise<Service>;
  /** Stop taking players, end every stream (reason shutdown), flush events, close HTTP. */
  close(): Promise<void>;
}

export async function buildEdgeProxy(
  config: ProxyConfig,
  nc: NatsConnection,
  log: Logger,
): Promise<EdgeProxy> {
  const registry = createRegistry(ServiceNames.edgeProxy);
  const table = new EngineTable(await openEnginesKv(nc), log);
  await table.start();
  const metrics = createProxyMetrics(registry, () => ({
    clients: streams.clientCount(),
    streams: streams.all().length,
  }));
  const cooldown = new EngineCooldown(config.engineCooldownMs);
  const health = new EngineHealthFollower(nc, cooldown, log);
  health.start();
  const engines = new EngineSource(
    nc,
    table,
    {
      proxyId: config.instanceId,
      requestTimeoutMs: config.acquireTimeoutMs,
      staticEngines: config.staticEngines
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      staticEngineCapacity: config.staticEngineCapacity,
    },
    log,
    metrics,
    cooldown,
  );
  const events = new EventPublisher(nc, log);
  const ringMemory = new RingMemory(config.maxRingMemoryBytes);
  const streams: StreamHub = new StreamHub({
    engines,
    events,
    metrics,
    log,
    proxyId: config.instanceId,
    memory: ringMemory,
    onViewersChanged: (stream) => link.viewersChanged(stream),
    settings: {
      ringBytes: config.ringBytes,
      ringSeconds: config.ringSeconds,
      joinWindowBytes: config.joinWindowBytes,
      coalesceMs: config.coalesceMs,
      engineStartTimeoutMs: config.engineStartTimeoutMs,
      firstByteTimeoutMs: config.firstByteTimeoutMs,
      emptyTimeoutMs: config.emptyTimeoutMs,
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
  });

  let closing = false;
  const http = buildHttpApp({
    logger: log,
    registry,
    access: { ...config, openPaths: ['/ace/'] },
    health: () => ({ ok: !closing, streams: streams.all().length, pendingEvents: events.pending }),
    limits: config,
  });
  requestLimits(http, config);
  const admission = new Admission(config, {
    streams: () => streams.all().length + hls.all().length,
    players: () => streams.clientCount(),
    ringMemoryFull: () => ringMemory.isFull,
  });
  streamRoutes(http, streams, admission, () => closing);
  const hls = new HlsHub({
    engines,
    events,
    log,
    proxyId: config.instanceId,
    onViewersChanged: (session) => link.viewersChanged(session),
    settings: {
      engineStartTimeoutMs: config.engineStartTimeoutMs,
      engineCallTimeoutMs: config.engineCallTimeoutMs,
      firstByteTimeoutMs: config.firstByteTimeoutMs,
      emptyTimeoutMs: config.emptyTimeoutMs,
      failoverDeadlineMs: config.failoverDeadlineMs,
      startRetries: config.startRetries,
      startPatienceMs: config.startPatienceMs,
      idleMs: Math.max(config.lingerMs, config.hlsIdleMs),
    },
  });
  hlsRoutes(http, hls, admission);
  statusRoutes(http, streams, hls);
  adminRoutes(http, streams, hls);
  const link = new ControlLink(nc, streams, hls, engines, events, log, {
    proxyId: config.instanceId,
    renewIntervalMs: config.renewIntervalMs,
    viewersDebounceMs: 1000,
  });
  link.start();
  rejectOtherMethods(http, ['/ace/getstream', '/ace/manifest.m3u8', '/ace/status', '/api/streams']);

  let service: Service | undefined;
  return {
    http,
    hub: streams,
    events,
    async serve(httpAddress) {
      service = await addMicroService(nc, {
        name: ServiceNames.edgeProxy,
        version: '0.1.0',
        description: 'Acexy-compatible HTTP proxy multiplexing AceStream engine sessions',
        httpAddress,
        instanceId: config.instanceId,
      });
      addJsonEndpoint(
        service,
        log,
        {
          name: 'streams',
          subject: `${Subjects.proxyPrefix}.${config.instanceId}.streams`,
          request: Type.Object({}),
        },
        async () => ({
          streams: streams.all().map((s) => ({ streamId: s.id, content: s.content, clients: s.clientCount })),
        }),
      );
      return service;
    },
    async close() {
      closing = true;
      link.stop();
      await health.stop();
      await service?.stop().catch(() => {});
      streams.closeAll('shutdown');
      hls.closeAll();
      await events.drain(5000);
      table.stop();
      await http.close();
    },
  };
}
