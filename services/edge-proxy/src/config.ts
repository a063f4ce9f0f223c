import { Type, type Static } from '@sinclair/typebox';
import { CommonConfig } from '@acefleet/platform';

export const ProxyConfig = Type.Object({
  ...CommonConfig,
  httpPort: Type.Integer({ default: 8080, minimum: 0, maximum: 65535 }),
  /** How long to wait for engine-manager to answer an acquire (provisioning an engine can take a while). */
  acquireTimeoutMs: Type.Integer({ default: 20_000, minimum: 100 }),
  /** Comma-separated engine base URLs used when neither the manager nor the engine cache can help. */
  staticEngines: Type.String({ default: '' }),
  /** Sessions this proxy opens at most on one static engine (cached engines use their record's capacity). */
  staticEngineCapacity: Type.Integer({ default: 2, minimum: 1 }),
  /** Streams (TS streams plus HLS sessions, each one engine session) this proxy holds at most; then 503. */
  maxStreams: Type.Integer({ default: 200, minimum: 1 }),
  /** MPEG-TS players (attached or waiting for their first bytes) this proxy serves at most; then 503. */
  maxPlayers: Type.Integer({ default: 2000, minimum: 1 }),
  /** Distinct streams one client address may play at once; then 429. */
  maxStreamsPerClient: Type.Integer({ default: 8, minimum: 1 }),
  /** Longest request target (path and query) in bytes; longer answers 414. */
  maxUrlLength: Type.Integer({ default: 2048, minimum: 256 }),
  /** Request line plus headers in bytes (node's maxHeaderSize); larger answers 431. */
  maxHeaderBytes: Type.Integer({ default: 16 * 1024, minimum: 1024 }),
  /** Time a client has to send its whole request (headers); then 408. Responses are not limited by it. */
  requestTimeoutMs: Type.Integer({ default: 10_000, minimum: 100 }),
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: Type.Integer({ default: 5_000, minimum: 100 }),
  /** Open client connections at most; a request on a connection over the cap answers 503 and closes it. */
  maxConnections: Type.Integer({ default: 4096, minimum: 1 }),
  /** The most one stream's ring holds, whatever its bitrate. */
  ringBytes: Type.Integer({ default: 2 * 1024 * 1024, minimum: 256 * 1024 }),
  /** A stream's ring holds this many seconds of its measured bitrate (at least 256 KiB, at most ringBytes). */
  ringSeconds: Type.Number({ default: 2, minimum: 0.5, maximum: 60 }),
  /** Ring memory of all streams together; at this, new streams are refused with 503 (existing ones play on). */
  maxRingMemoryBytes: Type.Integer({ default: 768 * 1024 * 1024, minimum: 1024 * 1024 }),
  joinWindowBytes: Type.Integer({ default: 1024 * 1024, minimum: 0 }),
  /** Upper bound of the proxy-wide flush window; the window grows 1 ms per 10 players from 5 ms. */
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
  /** An engine that failed a stream (start, bad media, stall, EOF) is not chosen again for this long; 0: off. */
  engineCooldownMs: Type.Integer({ default: 30_000, minimum: 0 }),
  /** How often engine claims are renewed at the manager (its lease TTL is 90 s by default). */
  renewIntervalMs: Type.Integer({ default: 30_000, minimum: 100 }),
  engineCallTimeoutMs: Type.Integer({ default: 5_000, minimum: 100 }),
});
export type ProxyConfig = Static<typeof ProxyConfig>;
