import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { AcefleetError } from '@acefleet/contracts';
import type { HistoryStore } from '../history.ts';
import type { LiveFeed } from '../live.ts';
import type { FleetView } from '../overview.ts';
import type { SessionStore } from '../store.ts';
import { usageSummary } from '../usage.ts';
import type { Db } from '../db.ts';

const Time = Type.String({ format: 'date-time' });
const Limit = (max: number, dflt: number) => Type.Integer({ minimum: 1, maximum: max, default: dflt });

const SessionsQuery = Type.Object({
  since: Type.Optional(Time),
  until: Type.Optional(Time),
  content: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{40}$' })),
  engine: Type.Optional(Type.String({ maxLength: 128 })),
  proxy: Type.Optional(Type.String({ maxLength: 128 })),
  reason: Type.Optional(Type.String({ maxLength: 64 })),
  state: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('ended')])),
  limit: Limit(1000, 100),
});

const UsageQuery = Type.Object({
  group: Type.Union([Type.Literal('content'), Type.Literal('engine'), Type.Literal('day')], {
    default: 'content',
  }),
  since: Type.Optional(Time),
  until: Type.Optional(Time),
  limit: Limit(1000, 100),
});

const EventsQuery = Type.Object({
  kind: Type.Optional(Type.String({ maxLength: 64 })),
  engine: Type.Optional(Type.String({ maxLength: 128 })),
  stream: Type.Optional(Type.String({ maxLength: 128 })),
  since: Type.Optional(Time),
  before: Type.Optional(Type.Integer({ minimum: 1 })),
  limit: Limit(500, 100),
});

const StreamParams = Type.Object({ streamId: Type.String({ minLength: 1, maxLength: 128 }) });
const SamplesQuery = Type.Object({ since: Type.Optional(Time) });

export interface ApiParts {
  db: Db;
  sessions: SessionStore;
  history: HistoryStore;
  view: FleetView;
  live: LiveFeed;
}

export const apiPaths = [
  '/api/overview',
  '/api/engines',
  '/api/streams',
  '/api/streams/:streamId',
  '/api/sessions',
  '/api/usage',
  '/api/events',
  '/api/totals',
  '/api/live',
];

/** The JSON API over the stored history, plus the live feed (Server-Sent Events) the dashboard follows. */
export function apiRoutes(app: FastifyInstance, p: ApiParts): void {
  app.get('/api/overview', async () => p.view.overview());
  app.get('/api/engines', async () => ({ engines: p.view.engines() }));
  app.get('/api/streams', async () => ({ streams: p.view.streams() }));
  app.get('/api/totals', async () => p.sessions.totals());

  app.get<{ Params: Static<typeof StreamParams>; Querystring: Static<typeof SamplesQuery> }>(
    '/api/streams/:streamId',
    { schema: { params: StreamParams, querystring: SamplesQuery } },
    async (req) => {
      const session = p.sessions.get(req.params.streamId);
      if (!session) throw new AcefleetError('stream_not_found', `no stream ${req.params.streamId}`);
      return { session, samples: p.history.samples(session.streamId, req.query.since) };
    },
  );

  app.get<{ Querystring: Static<typeof SessionsQuery> }>(
    '/api/sessions',
    { schema: { querystring: SessionsQuery } },
    async (req) => ({ sessions: p.sessions.sessions(req.query) }),
  );

  app.get<{ Querystring: Static<typeof UsageQuery> }>(
    '/api/usage',
    { schema: { querystring: UsageQuery } },
    async (req) => ({
      group: req.query.group,
      usage: usageSummary(p.db, req.query.group, req.query),
    }),
  );

  app.get<{ Querystring: Static<typeof EventsQuery> }>(
    '/api/events',
    { schema: { querystring: EventsQuery } },
    async (req) => ({ events: p.history.events(req.query) }),
  );

  app.get('/api/live', (_req, reply) => {
    reply.hijack();
    p.live.attach(reply.raw);
  });
}
