import { Type, type Static } from '@sinclair/typebox';
import { CommonConfig } from '@acefleet/platform';

export const ProxyConfig = Type.Object({
  ...CommonConfig,
  httpPort: Type.Integer({ default: 8080, minimum: 0, maximum: 65535 }),
  /** How long to wait for engine-manager to answer an acquire (provisioning an engine can take a while). */
  acquireTimeoutMs: Type.Integer({ default: 20_000, minimum: 100 }),
  /** Comma-separated engine base URLs used when neither the manager nor the engine cache can help. */
  staticEngines: Type.String({ default: '' }),
  /** The last engines table seen, kept here so a proxy restarted while NATS is down still finds engines. */
  engineCacheFile: Type.String({ default: '.run/edge-proxy-engines.json' }),
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
  /** HLS players only poll: a session with no playlist or segment request for this long is stopped. */
  hlsIdleMs: Type.Integer({ default: 30_000, minimum: 1000 }),
  /** How often engine claims are renewed at the manager (its lease TTL is 90 s by default). */
  renewIntervalMs: Type.Integer({ default: 30_000, minimum: 100 }),
  engineCallTimeoutMs: Type.Integer({ default: 5_000, minimum: 100 }),
});
export type ProxyConfig = Static<typeof ProxyConfig>;
