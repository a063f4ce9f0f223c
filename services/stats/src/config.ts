import { Type, type Static } from '@sinclair/typebox';
import { STATS_CONSUMER } from '@acefleet/contracts';
import { AnnounceConfig, CommonConfig, OutboxConfig } from '@acefleet/platform';

export const StatsConfig = Type.Object({
  ...CommonConfig,
  ...AnnounceConfig,
  ...OutboxConfig,
  httpPort: Type.Integer({
    default: 8081,
    minimum: 0,
    maximum: 65535,
    description: 'API, metrics and the dashboard.',
  }),
  dashboardDir: Type.String({
    default: '',
    description:
      "the dashboard's static files; empty: services/stats/public next to the sources (set it for bundled runs).",
  }),
  dbPath: Type.String({
    default: '.run/stats.db',
    description: 'SQLite file (relative to the working directory); `:memory:` keeps nothing',
  }),
  consumerName: Type.String({
    default: STATS_CONSUMER,
    pattern: '^[A-Za-z0-9_-]+$',
    description: 'durable consumer name: keep it stable so a restarted stats resumes where it stopped.',
  }),
  ackWaitMs: Type.Integer({
    default: 5_000,
    minimum: 500,
    description: 'events delivered to a stats process that died unacknowledged are redelivered after this.',
  }),
  sampleRetentionMs: Type.Integer({
    default: 24 * 3600_000,
    minimum: 1000,
    maximum: 30 * 24 * 3600_000,
    description: 'per-stream stat samples older than this are deleted.',
  }),
  eventRetentionMs: Type.Integer({
    default: 30 * 24 * 3600_000,
    minimum: 1000,
    maximum: 3650 * 24 * 3600_000,
    description:
      'events-feed entries (health changes, stale streams…) older than this are deleted; sessions are kept STATS_RETENTION_DAYS.',
  }),
  statsRetentionDays: Type.Integer({
    default: 90,
    minimum: 1,
    maximum: 3650,
    description:
      'ended stream sessions and player sessions older than this many days are deleted (open ones never): about 1 KB a stream session and 0.5 KB a player session',
  }),
  compactIntervalMs: Type.Integer({
    default: 6 * 3600_000,
    minimum: 1000,
    maximum: 7 * 24 * 3600_000,
    description:
      'how often the database gives back what deletes freed: its WAL checkpointed to zero bytes, the file vacuumed when a fifth of it is free',
  }),
  pruneIntervalMs: Type.Integer({
    default: 60_000,
    minimum: 100,
    maximum: 24 * 3600_000,
    description: 'how often old history is deleted',
  }),
  liveMaxClients: Type.Integer({
    default: 64,
    minimum: 1,
    description: 'dashboards following GET /api/live at once; one more is answered 503 with Retry-After.',
  }),
  liveMaxBacklogBytes: Type.Integer({
    default: 256 * 1024,
    minimum: 1024,
    description: 'bytes of the live feed a dashboard may leave unread before it is dropped.',
  }),
  proxyLostAfterMs: Type.Integer({
    default: 45_000,
    minimum: 1000,
    description:
      'an edge proxy that has not answered $SRV.PING for this long is gone: its open sessions end with reason proxy_lost (at once when a new instance answers at its HTTP address); pinged every quarter of it',
  }),
  dbBusyTimeoutMs: Type.Integer({
    default: 500,
    minimum: 0,
    maximum: 10_000,
    description:
      'how long a write waits for a database lock held elsewhere before it fails (and consuming pauses)',
  }),
});
export type StatsConfig = Static<typeof StatsConfig>;
