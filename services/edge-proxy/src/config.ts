import { Type, type Static } from '@sinclair/typebox';
import { isSubjectToken, redactCredentials } from '@acefleet/contracts';
import {
  CommonConfig,
  ConfigError,
  EngineAddressConfig,
  engineHostPort,
  parseEngineAddresses,
  type EngineAddressRule,
} from '@acefleet/platform';
import { CatalogConfig, checkCatalogConfig } from './catalog/catalog-config.ts';

export const ProxyConfig = Type.Object({
  ...CommonConfig,
  ...EngineAddressConfig,
  httpPort: Type.Integer({
    default: 8080,
    minimum: 0,
    maximum: 65535,
    description: 'HTTP port (`0`: any free port)',
  }),
  acquireTimeoutMs: Type.Integer({
    default: 20_000,
    minimum: 100,
    description:
      'how long to wait for engine-manager to answer an acquire (provisioning an engine can take a while).',
  }),
  acquireFallbackMs: Type.Integer({
    default: 3_000,
    minimum: 0,
    description:
      'an acquire engine-manager has not answered after this long starts on an engine the proxy can choose itself (its cache, STATIC_ENGINES) when one has room; a later grant is given back. Without such an engine the proxy waits up to ACQUIRE_TIMEOUT_MS.',
  }),
  staticEngines: Type.String({
    default: '',
    description:
      'comma-separated engine base URLs (`http(s)://host:port`) used when neither the manager nor the engine cache can help; each counts as an address in ENGINE_ADDRESSES too.',
  }),
  staticEngineCapacity: Type.Integer({
    default: 2,
    minimum: 1,
    description:
      "sessions this proxy opens at most on one static engine (cached engines use their record's capacity).",
  }),
  maxStreams: Type.Integer({
    default: 200,
    minimum: 1,
    description:
      'streams (channels, each one engine session whatever its players ask for: MPEG-TS, HLS or both) this proxy holds at most; then 503.',
  }),
  maxPlayers: Type.Integer({
    default: 2000,
    minimum: 1,
    description:
      'MPEG-TS players (attached or waiting for their first bytes) this proxy serves at most; then 503.',
  }),
  maxStreamsPerClient: Type.Integer({
    default: 4,
    minimum: 1,
    description:
      "one client address's share when it has no player token (a token has its own limit): distinct streams it plays plus those it left lingering. Over it its own oldest lingering stream ends; with none lingering, 429. The default is half of the default fleet (4 engines x 2).",
  }),
  maxUrlLength: Type.Integer({
    default: 2048,
    minimum: 256,
    description: 'longest request target (path and query) in bytes; longer answers 414.',
  }),
  ringBytes: Type.Integer({
    default: 2 * 1024 * 1024,
    minimum: 256 * 1024,
    description: "the most one stream's ring holds, whatever its bitrate",
  }),
  ringSeconds: Type.Number({
    default: 2,
    minimum: 0.5,
    maximum: 60,
    description:
      "a stream's ring holds this many seconds of its measured bitrate (at least 256 KiB, at most RING_BYTES)",
  }),
  maxRingMemoryBytes: Type.Integer({
    default: 768 * 1024 * 1024,
    minimum: 1024 * 1024,
    description:
      'ring memory of all streams together; at this, new streams are refused with 503 (playing ones go on)',
  }),
  joinWindowMs: Type.Integer({
    default: 2_000,
    minimum: 0,
    description:
      "how far back in the ring a new player starts, in time of the stream's measured bitrate (at a PAT when there is one)",
  }),
  joinWindowBytes: Type.Integer({
    default: 1024 * 1024,
    minimum: 0,
    description:
      'the most a new player starts back, whatever the bitrate (and the window until it is measured)',
  }),
  coalesceMs: Type.Integer({
    default: 80,
    minimum: 5,
    maximum: 1000,
    description:
      'upper bound of the proxy-wide flush window; the window grows 1 ms per 10 players from 5 ms. A player gets its bytes in bursts this far apart (80 ms: within 1 % of its rate over any 10 s).',
  }),
  maxClientBacklogBytes: Type.Integer({
    default: 512 * 1024,
    minimum: 16 * 1024,
    description: 'bytes a player may have queued in its socket before the proxy stops writing to it',
  }),
  slowClientTimeoutMs: Type.Integer({
    default: 15_000,
    minimum: 100,
    description: 'a player stuck at its backlog limit this long is disconnected',
  }),
  waitHeadMs: Type.Integer({
    default: 500,
    minimum: 0,
    maximum: 10_000,
    description:
      'a player waiting for a stream to start (a real engine warms up for 5-25 s) gets its response head after this long, then an MPEG-TS null packet every 250 ms until the media comes, so players with short read timeouts stay; a start that fails sooner still answers with its error status, a later failure ends the body cleanly',
  }),
  lingerMs: Type.Integer({
    default: 30_000,
    minimum: 0,
    description: 'how long the engine session is kept after the last player leaves; `0` stops it at once',
  }),
  engineStartTimeoutMs: Type.Integer({
    default: 20_000,
    minimum: 100,
    description: "limit for the engine's answer to the start call",
  }),
  firstByteTimeoutMs: Type.Integer({
    default: 30_000,
    minimum: 100,
    description:
      'limit for the playback response, and then for its first media byte (real engines warm up for 5-25 s; players meanwhile get null packets, see WAIT_HEAD_MS)',
  }),
  emptyTimeoutMs: Type.Integer({
    default: 20_000,
    minimum: 100,
    description: 'limit for silence from the engine once media has flowed',
  }),
  stallFailoverMs: Type.Integer({
    default: 4_000,
    minimum: 0,
    description:
      'a stream that was playing and gets no MPEG-TS for this long starts moving to another engine, keeping the stalled one until then (it may resume); must be below EMPTY_TIMEOUT_MS, which still ends the stream when no engine takes over; 0: off',
  }),
  hotStandbyViewers: Type.Integer({
    default: 0,
    minimum: 0,
    description:
      'a channel with at least this many players keeps a hot standby: a second engine session on another engine, held ready from its latest key frame, that takes over at once when the playing engine fails (each costs an engine slot; standbys are the first claims the manager gives up); 0: off',
  }),
  standbyStallMs: Type.Integer({
    default: 600,
    minimum: 200,
    description:
      'with a hot standby ready, silence or a frozen picture this long switches to it (switching is cheap and reversible); must be below EMPTY_TIMEOUT_MS',
  }),
  failoverDeadlineMs: Type.Integer({
    default: 15_000,
    minimum: 0,
    description: 'time allowed to move a playing stream to another engine before it ends',
  }),
  startRetries: Type.Integer({
    default: 2,
    minimum: 0,
    maximum: 10,
    description:
      'A failed start (engine error, timeout, bad media) is tried again on another engine this many times...',
  }),
  startPatienceMs: Type.Integer({
    default: 60_000,
    minimum: 0,
    description: '...while the first waiting player has waited less than this.',
  }),
  hlsIdleMs: Type.Integer({
    default: 30_000,
    minimum: 1000,
    description:
      'HLS players only poll: one counts as watching while it asked for a playlist or segment within this long; a stream left with no player lingers (LINGER_MS), as for MPEG-TS.',
  }),
  hlsSegmentSeconds: Type.Number({
    default: 2,
    minimum: 0.5,
    maximum: 10,
    description:
      'target duration of the HLS segments the proxy cuts from the MPEG-TS it reads: each is cut at the first key frame this long after its start (whole GOPs).',
  }),
  hlsPlaylistSegments: Type.Integer({
    default: 5,
    minimum: 3,
    maximum: 30,
    description:
      'segments the live HLS playlist lists; the proxy keeps 2 more in memory (counted in MAX_RING_MEMORY_BYTES) for players that read the playlist just before it slid.',
  }),
  hlsFromEngine: Type.Boolean({
    default: false,
    description:
      "ask engines for HLS (`/ace/manifest.m3u8`) instead of MPEG-TS, for engines that only serve HLS; the proxy reads the engine's segments in order into the same stream (MPEG-TS and HLS players alike).",
  }),
  engineCooldownMs: Type.Integer({
    default: 30_000,
    minimum: 0,
    description:
      'an engine that failed a stream (start, bad media, stall, EOF) is not chosen again for this long; 0: off.',
  }),
  renewIntervalMs: Type.Integer({
    default: 30_000,
    minimum: 100,
    description: 'how often engine claims are renewed at the manager (its lease TTL is 90 s by default).',
  }),
  engineCallTimeoutMs: Type.Integer({
    default: 5_000,
    minimum: 100,
    description: 'limit for stop calls to engines',
  }),
  engineCacheFile: Type.String({
    default: '.run/edge-proxy-engines.json',
    description:
      'the last engines table seen, kept so a proxy restarted while NATS is down still finds engines',
  }),
  instanceFile: Type.String({
    default: '.run/proxy-id.json',
    description:
      "this proxy's instance id, kept so that the next start releases the claims a crashed instance left (not after the lease TTL); one file per proxy; empty: off",
  }),
  outboxDir: Type.String({
    default: '.run/outbox',
    description:
      'directory of the durable event outbox: events NATS has not stored yet survive a restart and are replayed (same message ids); one directory per proxy; empty: memory only',
  }),
  outboxMaxEvents: Type.Integer({
    default: 100_000,
    minimum: 100,
    description: 'outbox bound (count); past it the oldest event is dropped and logged',
  }),
  outboxMaxBytes: Type.Integer({
    default: 64 * 1024 * 1024,
    minimum: 64 * 1024,
    description: 'outbox bound (payload bytes); past it the oldest event is dropped and logged',
  }),
  ...CatalogConfig,
});
export type ProxyConfig = Static<typeof ProxyConfig>;

/**
 * What the schema cannot say: limits that only make sense against each other, and the two parts of the proxy
 * id (NATS_USER and INSTANCE_ID), each one subject token. Throws a ConfigError.
 */
export function checkProxyConfig(config: ProxyConfig): void {
  for (const [name, value] of [
    ['NATS_USER', config.natsUser],
    ['INSTANCE_ID', config.instanceId],
  ] as const) {
    if (value && !isSubjectToken(value)) {
      throw new ConfigError(
        `invalid configuration:\n  ${name} (${JSON.stringify(value)}) must not hold '.', '*', '>' or white space: it is part of the proxy's NATS subjects`,
      );
    }
  }
  engineAddressRulesOf(config);
  checkCatalogConfig(config);
  const { stallFailoverMs, emptyTimeoutMs } = config;
  if (stallFailoverMs > 0 && stallFailoverMs >= emptyTimeoutMs) {
    throw new ConfigError(
      `invalid configuration:\n  STALL_FAILOVER_MS (${stallFailoverMs}) must be below EMPTY_TIMEOUT_MS (${emptyTimeoutMs}), or 0 (off)`,
    );
  }
}

/** STATIC_ENGINES as base URLs, each a bare `http(s)://host:port`; throws a ConfigError naming a bad one. */
export function staticEnginesOf(config: Pick<ProxyConfig, 'staticEngines'>): string[] {
  const urls = config.staticEngines
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const url of urls) {
    if (!engineHostPort(url)) {
      throw new ConfigError(
        `invalid configuration:\n  STATIC_ENGINES (${JSON.stringify(redactCredentials(url))}): expected http(s)://host:port, without path or query`,
      );
    }
  }
  return urls;
}

/**
 * Where the engines the proxy chooses by itself may be: ENGINE_ADDRESSES, plus each static engine's own
 * address (the operator named it). Throws a ConfigError for a bad entry of either.
 */
export function engineAddressRulesOf(
  config: Pick<ProxyConfig, 'staticEngines' | 'engineAddresses'>,
): EngineAddressRule[] {
  const statics = staticEnginesOf(config).map((url) => {
    const { host, port } = engineHostPort(url)!;
    return { host, first: port, last: port };
  });
  return [...parseEngineAddresses(config.engineAddresses), ...statics];
}
