import { Type, type Static } from '@sinclair/typebox';
import { CommonConfig } from '@acefleet/platform';

export const ProxyConfig = Type.Object({
  ...CommonConfig,
  httpPort: Type.Integer({ default: 8080, minimum: 0, maximum: 65535 }),
  /** How long to wait for engine-manager to answer an acquire (provisioning an engine can take a while). */
  acquireTimeoutMs: Type.Integer({ default: 20_000, minimum: 100 }),
  /** Comma-separated engine base URLs used when neither the manager nor the engine cache can help. */
  staticEngines: Type.String({ default: '' }),
  ringBytes: Type.Integer({ default: 2 * 1024 * 1024, minimum: 64 * 1024 }),
  joinWindowBytes: Type.Integer({ default: 1024 * 1024, minimum: 0 }),
  /** Upper bound of the flush batching window; the window grows 1 ms per 10 players from 5 ms. */
  coalesceMs: Type.Integer({ default: 100, minimum: 5, maximum: 1000 }),
  maxClientBacklogBytes: Type.Integer({ default: 512 * 1024, minimum: 16 * 1024 }),
  slowClientTimeoutMs: Type.Integer({ default: 15_000, minimum: 100 }),
  lingerMs: Type.Integer({ default: 30_000, minimum: 0 }),
  engineStartTimeoutMs: Type.Integer({ default: 20_000, minimum: 100 }),
  firstByteTimeoutMs: Type.Integer({ default: 20_000, minimum: 100 }),
  emptyTimeoutMs: Type.Integer({ default: 20_000, minimum: 100 }),
  failoverDeadlineMs: Type.Integer({ default: 15_000, minimum: 0 }),
  /** A failed start (engine error, timeout, bad media) is tried again on another engine this many times... */
  startRetries: Type.Integer({ default: 2, minimum: 0, maximum: 10 }),
  /** ...while the first waiting player has waited less than this. */
  startPatienceMs: Type.Integer({ default: 30_000, minimum: 0 }),
  /** HLS players only poll: a session with no playlist or segment request for this long is stopped. */
  hlsIdleMs: Type.Integer({ default: 30_000, minimum: 1000 }),
  /** How often engine claims are renewed at the manager (its lease TTL is 90 s by default). */
  renewIntervalMs: Type.Integer({ default: 30_000, minimum: 100 }),
  engineCallTimeoutMs: Type.Integer({ default: 5_000, minimum: 100 }),
  /**
   * Directory of the durable event outbox: events NATS has not stored yet survive a restart and are
   * replayed (same message ids). One directory per proxy; empty: the outbox is kept in memory only.
   */
  outboxDir: Type.String({ default: '.run/outbox' }),
  /** Bounds of the outbox (count and payload bytes); past them the oldest event is dropped. */
  outboxMaxEvents: Type.Integer({ default: 100_000, minimum: 100 }),
  outboxMaxBytes: Type.Integer({ default: 64 * 1024 * 1024, minimum: 64 * 1024 }),
});
export type ProxyConfig = Static<typeof ProxyConfig>;
