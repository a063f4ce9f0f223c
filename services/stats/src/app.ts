import type { FastifyInstance } from 'fastify';
import type { Service } from '@nats-io/services';
import { Type } from '@sinclair/typebox';
import {
  EVENTS_STREAM,
  SAMPLES_STREAM,
  ServiceNames,
  Subjects,
  type StatsSummaryReply,
} from '@acefleet/contracts';
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
import { ProbeFollower } from './probe-follower.ts';
import { Retention } from './retention.ts';
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
  const probes = new ProbeFollower(nc, log, (probe) => live.send('probe', probe));
  const following = probes.follow();
  const view = new FleetView(
    () => table.records(),
    sessions,
    history,
    (id) => probes.lastOf(id),
  );
  const stored = registerFleetMetrics(registry, view, live);
  const applier = makeApplier(db, sessions, history, players);
  const follow = (stream: string, durableName: string, filterSubject: string): EventFollower =>
    new EventFollower(
      nc,
      applier,
      { stream, durableName, filterSubject, ackWaitMs: config.ackWaitMs },
      log,
      (e) => {
        stored.inc({ kind: e.kind });
        live.send('event', e);
      },
      (err) => storage.failed(err),
    );
  // The lifecycle events, and the samples, kept hours in a stream of their own (libs/platform jetstream-bounds.ts).
  const followers = [
    follow(EVENTS_STREAM, config.consumerName, Subjects.events),
    follow(SAMPLES_STREAM, `${config.consumerName}-samples`, Subjects.samples),
  ];
  const consuming = {
    pause: () => followers.forEach((f) => f.pause()),
    resume: () => followers.forEach((f) => f.resume()),
  };
  const retention = new Retention(
    db,
    history,
    {
      sampleRetentionMs: config.sampleRetentionMs,
      eventRetentionMs: config.eventRetentionMs,
      retentionDays: config.statsRetentionDays,
      compactIntervalMs: config.compactIntervalMs,
    },
    log,
  );
  const storage = new StorageGuard(
    () => retention.run(),
    consuming,
    { pruneIntervalMs: config.pruneIntervalMs, retryMs: Math.min(config.pruneIntervalMs, 2000) },
    log,
  );
  for (const f of followers) await f.start();
  storage.start();
  const events = new EventPublisher(nc, log, {
    ...(config.outboxDir && { durable: { dir: config.outboxDir, name: ServiceNames.stats } }),
  });
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
      events.close();
      // Shutting down: the connection may be gone already, and its close ends the service anyway.
      await service?.stop().catch(() => {});
      followers.forEach((f) => f.stop());
      await following.stop();
      table.stop();
      await channels.stop();
      live.close();
      await http.close();
      db.close();
    },
  };
}
