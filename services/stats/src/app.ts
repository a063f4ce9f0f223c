import type { FastifyInstance } from 'fastify';
import type { Service } from '@nats-io/services';
import { Gauge } from 'prom-client';
import { Type } from '@sinclair/typebox';
import { ServiceNames, Subjects } from '@acefleet/contracts';
import {
  addJsonEndpoint,
  addMicroService,
  buildHttpApp,
  createRegistry,
  rejectOtherMethods,
  type Logger,
  type NatsConnection,
} from '@acefleet/platform';
import type { StatsConfig } from './config.ts';
import { EventFollower } from './consumer.ts';
import { StatsStore } from './store.ts';

export interface StatsService {
  http: FastifyInstance;
  store: StatsStore;
  follower: EventFollower;
  serve(httpAddress: string): Promise<Service>;
  close(): Promise<void>;
}

const SessionsQuery = Type.Object({
  since: Type.Optional(Type.String({ format: 'date-time' })),
  until: Type.Optional(Type.String({ format: 'date-time' })),
  content: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{40}$' })),
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
});

export async function buildStats(
  config: StatsConfig,
  nc: NatsConnection,
  log: Logger,
): Promise<StatsService> {
  const registry = createRegistry(ServiceNames.stats);
  const store = new StatsStore(config.dbPath);
  const follower = new EventFollower(nc, store, config.consumerName, log);
  await follower.start();

  const totals = (): ReturnType<StatsStore['totals']> => store.totals();
  new Gauge({
    name: 'acefleet_stats_active_streams',
    help: 'Streams started and not yet ended, fleet-wide',
    registers: [registry],
    collect() {
      this.set(totals().activeStreams);
    },
  });
  new Gauge({
    name: 'acefleet_stats_sessions',
    help: 'Sessions recorded, by whether they ended',
    labelNames: ['ended'],
    registers: [registry],
    collect() {
      const t = totals();
      this.set({ ended: 'false' }, t.activeStreams);
      this.set({ ended: 'true' }, t.sessionsEnded);
    },
  });

  const http = buildHttpApp({ logger: log, registry });
  http.get('/api/streams', async () => ({ streams: store.active() }));
  http.get('/api/totals', async () => totals());
  http.get<{ Querystring: typeof SessionsQuery.static }>(
    '/api/sessions',
    { schema: { querystring: SessionsQuery } },
    async (req) => ({ sessions: store.sessions(req.query) }),
  );
  rejectOtherMethods(http, ['/api/streams', '/api/totals', '/api/sessions']);

  let service: Service | undefined;
  return {
    http,
    store,
    follower,
    async serve(httpAddress) {
      service = await addMicroService(nc, {
        name: ServiceNames.stats,
        version: '0.1.0',
        description: 'Fleet usage built from the event stream',
        httpAddress,
        instanceId: config.instanceId,
      });
      addJsonEndpoint(
        service,
        log,
        { name: 'summary', subject: Subjects.statsSummary, request: Type.Object({}) },
        async () => totals(),
      );
      return service;
    },
    async close() {
      await service?.stop().catch(() => {});
      follower.stop();
      await http.close();
      store.close();
    },
  };
}
