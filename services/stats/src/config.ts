import { Type, type Static } from '@sinclair/typebox';
import { STATS_CONSUMER } from '@acefleet/contracts';
import { CommonConfig } from '@acefleet/platform';

export const StatsConfig = Type.Object({
  ...CommonConfig,
  /** API, metrics and the dashboard. */
  httpPort: Type.Integer({ default: 8081, minimum: 0, maximum: 65535 }),
  /** SQLite file holding the history; ':memory:' keeps nothing across restarts. */
  /** The dashboard's static files; empty: services/stats/public next to the sources (set it for bundled runs). */
  dashboardDir: Type.String({ default: '' }),
  dbPath: Type.String({ default: '.run/stats.db' }),
  /** Durable consumer name: keep it stable so a restarted stats resumes where it stopped. */
  consumerName: Type.String({ default: STATS_CONSUMER, pattern: '^[A-Za-z0-9_-]+$' }),
  /** Events delivered to a stats process that died unacknowledged are redelivered after this. */
  ackWaitMs: Type.Integer({ default: 5_000, minimum: 500 }),
  /** Per-stream stat samples older than this are deleted. */
  sampleRetentionMs: Type.Integer({ default: 24 * 3600_000, minimum: 1000 }),
  /** Events-feed entries (health changes, stale streams…) older than this are deleted; sessions are kept. */
  eventRetentionMs: Type.Integer({ default: 30 * 24 * 3600_000, minimum: 1000 }),
  pruneIntervalMs: Type.Integer({ default: 60_000, minimum: 100 }),
  /** Dashboards following GET /api/live at once; one more is answered 503 with Retry-After. */
  liveMaxClients: Type.Integer({ default: 64, minimum: 1 }),
  /** Bytes of the live feed a dashboard may leave unread before it is dropped. */
  liveMaxBacklogBytes: Type.Integer({ default: 256 * 1024, minimum: 1024 }),
  /**
   * An edge proxy that has not answered $SRV.PING for this long is gone: its open sessions are ended with
   * reason proxy_lost (at once when a new instance answers at its HTTP address). Pinged every quarter of it.
   */
  proxyLostAfterMs: Type.Integer({ default: 45_000, minimum: 1000 }),
  /** How long a write waits for a database lock held elsewhere before it fails (and consuming pauses). */
  dbBusyTimeoutMs: Type.Integer({ default: 500, minimum: 0, maximum: 10_000 }),
});
export type StatsConfig = Static<typeof StatsConfig>;
