import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { AcefleetError, type ContentRef } from '@acefleet/contracts';
import type { HistoryStore } from '../history.ts';
import type { LiveFeed } from '../live.ts';
import type { FleetView } from '../overview.ts';
import type { PlayerStore } from '../players.ts';
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

const PlayersQuery = Type.Object({
  state: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('ended')])),
  token: Type.Optional(Type.String({ maxLength: 64 })),
  content: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{40}$' })),
  since: Type.Optional(Time),
  limit: Limit(1000, 100),
});

const StreamParams = Type.Object({ streamId: Type.String({ minLength: 1, maxLength: 128 }) });
const SamplesQuery = Type.Object({ since: Type.Optional(Time) });

export interface ApiParts {
  db: Db;
  sessions: SessionStore;
  history: HistoryStore;
  view: FleetView;
  live: LiveFeed;
  players: PlayerStore;
  /** The name of the channel that plays this content (the channels bucket), or null. */
  channelName: (kind: ContentRef['kind'], value: string) => string | null;
}

export const apiPaths = [
  '/api/overview',
  '/api/engines',
  '/api/streams',
  '/api/streams/:streamId',
  '/api/sessions',
  '/api/players',
  '/api/usage',
  '/api/events',
  '/api/totals',
  '/api/live',
];

/**
 * The JSON API over the stored history, plus the live feed (Server-Sent Events) the dashboard follows. Rows
 * about a content carry `channel`: its name when a channel plays it, so people read names, not hashes.
 */
export function apiRoutes(app: FastifyInstance, p: ApiParts): void {
  const named = <T extends { contentKind: string; contentValue: string }>(
    row: T,
  ): T & { channel: string | null } => ({
    ...row,
    channel: p.channelName(row.contentKind as ContentRef['kind'], row.contentValue),
  });
  app.get('/api/overview', async () => p.view.overview());
  app.get('/api/engines', async () => ({ engines: p.view.engines() }));
  app.get('/api/streams', async () => ({ streams: p.view.streams().map(named) }));
  app.get('/api/totals', async () => p.sessions.totals());

  app.get<{ Params: Static<typeof StreamParams>; Querystring: Static<typeof SamplesQuery> }>(
    '/api/streams/:streamId',
    { schema: { params: StreamParams, querystring: SamplesQuery } },
    async (req) => {
      const session = p.sessions.get(req.params.streamId);
      if (!session) throw new AcefleetError('stream_not_found', `no stream ${req.params.streamId}`);
      return { session: named(session), samples: p.history.samples(session.streamId, req.query.since) };
    },
  );

  app.get<{ Querystring: Static<typeof SessionsQuery> }>(
    '/api/sessions',
    { schema: { querystring: SessionsQuery } },
    async (req) => ({ sessions: p.sessions.sessions(req.query).map(named) }),
  );

  app.get<{ Querystring: Static<typeof PlayersQuery> }>(
    '/api/players',
    { schema: { querystring: PlayersQuery } },
    async (req) => ({ players: p.players.list(req.query).map(named) }),
  );

  app.get<{ Querystring: Static<typeof UsageQuery> }>(
    '/api/usage',
    { schema: { querystring: UsageQuery } },
    async (req) => {
      const usage = usageSummary(p.db, req.query.group, req.query);
      if (req.query.group !== 'content') return { group: req.query.group, usage };
      const channelOf = (key: string): string | null => {
        const [kind, value] = key.split(':');
        return p.channelName(kind as ContentRef['kind'], value ?? '');
      };
      return { group: 'content', usage: usage.map((u) => ({ ...u, channel: channelOf(u.key) })) };
    },
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
