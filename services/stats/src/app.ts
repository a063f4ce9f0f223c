import type { FastifyInstance } from 'fastify';
import type { Service } from '@nats-io/services';
import { Type } from '@sinclair/typebox';
import { ServiceNames, Subjects } from '@acefleet/contracts';
import {
  addJsonEndpoint,
  addMicroService,
  buildHttpApp,
  createRegistry,
  EngineTable,
  openEnginesKv,
  rejectOtherMethods,
  type Logger,
  type NatsConnection,
} from '@acefleet/platform';
import { makeApplier } from './apply-event.ts';
import type { StatsConfig } from './config.ts';
import { EventFollower } from './consumer.ts';
import { openDatabase } from './db.ts';
import { HistoryStore } from './history.ts';
import { LiveFeed } from './live.ts';
import { registerFleetMetrics } from './metrics.ts';
import { FleetView } from './overview.ts';
import { actionRoutes } from './routes/action-routes.ts';
import { apiPaths, apiRoutes } from './routes/api-routes.ts';
import { dashboardRoutes } from './routes/dashboard-routes.ts';
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
): Promise<StatsService> {
  const registry = createRegistry(ServiceNames.stats);
  const db = openDatabase(config.dbPath);
  const sessions = new SessionStore(db);
  const history = new HistoryStore(db);
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
  const follower = new EventFollower(
    nc,
    makeApplier(db, sessions, history),
    { durableName: config.consumerName, ackWaitMs: config.ackWaitMs },
    log,
    (e) => {
      stored.inc({ kind: e.kind });
      live.send('event', e);
    },
  );
  await follower.start();

  const prune = setInterval(() => {
    const now = Date.now();
    const gone = history.prune(
      new Date(now - config.sampleRetentionMs).toISOString(),
      new Date(now - config.eventRetentionMs).toISOString(),
    );
    if (gone.samples + gone.events > 0) log.debug(gone, 'pruned history');
  }, config.pruneIntervalMs);

  const http = buildHttpApp({ logger: log, registry, access: config });
  apiRoutes(http, { db, sessions, history, view, live });
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
        async () => sessions.totals(),
      );
      return service;
    },
    async close() {
      clearInterval(prune);
      await service?.stop().catch(() => {});
      follower.stop();
      table.stop();
      live.close();
      await http.close();
      db.close();
    },
  };
}
