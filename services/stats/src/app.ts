import type { FastifyInstance } from 'fastify';
import type { Service } from '@nats-io/services';
import { Type } from '@sinclair/typebox';
import { ServiceNames, Subjects, type StatsSummaryReply } from '@acefleet/contracts';
import {
  addJsonEndpoint,
  addMicroService,
  buildHttpApp,
  createRegistry,
  EventPublisher,
  openEnginesKv,
  rejectOtherMethods,
  type Logger,
  type NatsConnection,
} from '@acefleet/platform';
import { EngineTable } from '@acefleet/engine-records';
import { ChannelDirectory, openChannelsKv } from '@acefleet/channels';
import { makeApplier } from './apply-event.ts';
import type { StatsConfig } from './config.ts';
import { EventFollower } from './consumer.ts';
import { openDatabase } from './db.ts';
import { HistoryStore } from './history.ts';
import { LiveFeed } from './live.ts';
import { registerFleetMetrics } from './metrics.ts';
import { FleetView } from './overview.ts';
import { PlayerStore } from './players.ts';
import { ProxyWatch, pingProxies } from './proxy-watch.ts';
import { actionRoutes } from './routes/action-routes.ts';
import { apiPaths, apiRoutes } from './routes/api-routes.ts';
import { dashboardRoutes } from './routes/dashboard-routes.ts';
import { StorageGuard } from './storage-guard.ts';
import { SessionStore } from './store.ts';

export interface StatsService {
  http: FastifyInstance;
  sessions: SessionStore;
  follower: EventFollower;
  serve(httpAddress: string): Promise<Service>;
  close(): Promise<void>;
}

/** Wire stats: the database, the engines table, the durable event follower, the API, dashboard and metrics. */
export async function buildStats(
  config: StatsConfig,
  nc: NatsConnection,
  log: Logger,
  problems: () => string[] = () => [],
): Promise<StatsService> {
  const registry = createRegistry(ServiceNames.stats);
  const db = openDatabase(config.dbPath, config.dbBusyTimeoutMs);
  const sessions = new SessionStore(db);
  const history = new HistoryStore(db);
  const players = new PlayerStore(db);
  await openChannelsKv(nc);
  const channels = new ChannelDirectory(nc, log);
  await channels.start();
  const live = new LiveFeed(
    { maxClients: config.liveMaxClients, maxBacklogBytes: config.liveMaxBacklogBytes },
    log,
  );
  const table = new EngineTable(await openEnginesKv(nc), log, (id, engine) =>
    live.send('engine', { id, record: engine?.record ?? null }),
  );
  await table.start();
  const view = new FleetView(() => table.records(), sessions, history);
  const stored = registerFleetMetrics(registry, view, live);
  const follower: EventFollower = new EventFollower(
    nc,
    makeApplier(db, sessions, history, players),
    { durableName: config.consumerName, ackWaitMs: config.ackWaitMs },
    log,
    (e) => {
      stored.inc({ kind: e.kind });
      live.send('event', e);
    },
    (err) => storage.failed(err),
  );
  const storage = new StorageGuard(
    () => {
      const now = Date.now();
      return history.prune(
        new Date(now - config.sampleRetentionMs).toISOString(),
        new Date(now - config.eventRetentionMs).toISOString(),
      );
    },
    follower,
    { pruneIntervalMs: config.pruneIntervalMs, retryMs: Math.min(config.pruneIntervalMs, 2000) },
    log,
  );
  await follower.start();
  storage.start();
  const events = new EventPublisher(nc, log);
  const quarter = Math.min(5000, config.proxyLostAfterMs / 4);
  const waitMs = Math.min(1000, quarter);
  const proxies = new ProxyWatch(
    () => pingProxies(nc, waitMs),
    sessions,
    events,
    { lostAfterMs: config.proxyLostAfterMs, intervalMs: quarter, waitMs },
    log,
  );
  proxies.start();

  const http = buildHttpApp({
    logger: log,
    registry,
    access: config,
    problems: () => [...problems(), ...storage.problems()],
  });
  apiRoutes(http, {
    db,
    sessions,
    history,
    view,
    live,
    players,
    channelName: (kind, value) => channels.channelOf({ kind, value })?.name ?? null,
  });
  actionRoutes(http, nc, sessions);
  dashboardRoutes(http, config.dashboardDir || undefined);
  rejectOtherMethods(http, [...apiPaths, '/', '/assets/:file']);

  let service: Service | undefined;
  return {
    http,
    sessions,
    follower,
    async serve(httpAddress) {
      service = await addMicroService(nc, {
        name: ServiceNames.stats,
        version: '0.1.0',
        description: 'Fleet history, API, metrics and dashboard built from the event stream',
        httpAddress,
        instanceId: config.instanceId,
      });
      addJsonEndpoint(
        service,
        log,
        { name: 'summary', subject: Subjects.statsSummary, request: Type.Object({}) },
        async (): Promise<StatsSummaryReply> => sessions.totals(),
      );
      return service;
    },
    async close() {
      storage.stop();
      proxies.stop();
      await events.drain(2000);
      // Shutting down: the connection may be gone already, and its close ends the service anyway.
      await service?.stop().catch(() => {});
      follower.stop();
      table.stop();
      await channels.stop();
      live.close();
      await http.close();
      db.close();
    },
  };
}
