/** Every NATS name acefleet uses. One prefix, so one account permission covers the system. */
export const PREFIX = 'acefleet';

export const Subjects = {
  engineList: `${PREFIX}.engines.list`,
  engineStatus: `${PREFIX}.engines.status`,
  engineProvision: `${PREFIX}.engines.provision`,
  engineRemove: `${PREFIX}.engines.remove`,
  engineDrain: `${PREFIX}.engines.drain`,
  /** A rolling upgrade of the engines (UpgradeRequest); answered when done. */
  engineUpgrade: `${PREFIX}.engines.upgrade`,
  /** Per-host endpoints of the manager owning `<hostId>`: see hostSubject. */
  engineHostPrefix: `${PREFIX}.engines.host`,
  engineHealth: `${PREFIX}.events.engine.health`,
  /** An engine is draining: proxies move its streams before `deadline`. */
  engineDraining: `${PREFIX}.events.engine.draining`,
  /** Per-proxy endpoints live under `<proxyPrefix>.<instance id>`: see proxySubject (proxy.ts). */
  proxyPrefix: `${PREFIX}.proxy`,
  statsSummary: `${PREFIX}.stats.summary`,
  /** stats' finding that a proxy is gone (ProxyLost): its open sessions end with reason proxy_lost. */
  proxyLost: `${PREFIX}.events.proxy.lost`,
  /** Wildcard covering every durable event. */
  events: `${PREFIX}.events.>`,
  /** Wildcard covering every sample (frequent measurements kept hours, not days: the samples stream). */
  samples: `${PREFIX}.samples.>`,
} as const;
export type Subject = (typeof Subjects)[keyof typeof Subjects];

/** Subject of a per-host endpoint of the engine manager owning `hostId`. */
export function hostSubject(
  hostId: string,
  endpoint: 'acquire' | 'provision' | 'status' | 'drain' | 'remove' | 'upgrade',
): string {
  return `${Subjects.engineHostPrefix}.${hostId}.${endpoint}`;
}

/** Subject of a per-proxy endpoint of the edge proxy whose id is `proxyId` (`<name>.<run>`). */
export function proxySubject(proxyId: string, endpoint: 'streams' | 'stop' | 'players'): string {
  return `${Subjects.proxyPrefix}.${proxyId}.${endpoint}`;
}

/**
 * A proxy's id: `<name>.<run>`, two subject tokens. The name is the proxy's NATS user, which only it can log
 * in as, so permissions can bind every subject that carries the id to that proxy; the run is its instance id,
 * new at every start.
 */
export function proxyIdOf(name: string, run: string): string {
  return `${name}.${run}`;
}

/** The name (NATS user) part of a proxy id; an id without a run part is all name. */
export function proxyNameOf(proxyId: string): string {
  const dot = proxyId.indexOf('.');
  return dot < 0 ? proxyId : proxyId.slice(0, dot);
}

/** A name or run usable as one subject token: no dot, wildcard or white space. */
export function isSubjectToken(text: string): boolean {
  return /^[^.*>\s]+$/.test(text);
}

/** The engine-manager endpoints a proxy calls, each under the proxy's name, so the manager knows the caller. */
export type ProxyCall = 'acquire' | 'release' | 'renew';

/**
 * `acefleet.engines.<call>.<proxy name>`: only that proxy's NATS user may publish it, so the manager takes
 * the last token as the caller and acts only on that proxy's claims. `*` gives the subject the manager serves.
 */
export function proxyCallSubject(call: ProxyCall, proxyId: string): string {
  return `${PREFIX}.engines.${call}.${proxyId === '*' ? '*' : proxyNameOf(proxyId)}`;
}

/**
 * `acefleet.engines.host.<hostId>.<call>.<proxy name>`: a proxy's release or renewal of claims on `hostId`'s
 * engines, forwarded by the manager that got it to the one that owns them (the only writer of their records),
 * still under the proxy's name. Only managers may publish it. `*` gives the subject the owner serves.
 */
export function hostCallSubject(hostId: string, call: 'release' | 'renew', proxyId: string): string {
  return `${Subjects.engineHostPrefix}.${hostId}.${call}.${proxyId === '*' ? '*' : proxyNameOf(proxyId)}`;
}

/**
 * The proxy name a proxy-call subject was published under (`hostId`: as forwarded to that host, see
 * hostCallSubject), or undefined for another subject.
 */
export function callerOf(call: ProxyCall, subject: string, hostId?: string): string | undefined {
  const prefix =
    hostId === undefined ? `${PREFIX}.engines.${call}.` : `${Subjects.engineHostPrefix}.${hostId}.${call}.`;
  const name = subject.startsWith(prefix) ? subject.slice(prefix.length) : '';
  return isSubjectToken(name) ? name : undefined;
}

/** What a proxy reports about its streams, each kind under the proxy's own subjects. */
export const StreamEventKinds = ['started', 'moved', 'ended', 'viewers'] as const;
export type StreamEventKind = (typeof StreamEventKinds)[number];

const STREAM_EVENTS = `${PREFIX}.events.stream`;

/**
 * `acefleet.events.stream.<kind>.<proxyId>` (proxyId is `<name>.<run>`): a proxy may publish only under its
 * own name, so the subject says who sent the event, and readers check that the body's proxyId is the same.
 */
export function streamEventSubject(kind: StreamEventKind, proxyId: string): string {
  return `${STREAM_EVENTS}.${kind}.${proxyId}`;
}

/** Every proxy's events of one kind: `acefleet.events.stream.<kind>.>`. */
export function streamEventsOf(kind: StreamEventKind): string {
  return `${STREAM_EVENTS}.${kind}.>`;
}

/**
 * The kind and sending proxy of a stream-event subject, or undefined for any other subject. A proxy id of one
 * token (no run part) is read too: no proxy user may publish that form, only the operator (tests).
 */
export function parseStreamEventSubject(
  subject: string,
): { kind: StreamEventKind; proxyId: string } | undefined {
  return parseProxyEventSubject(STREAM_EVENTS, StreamEventKinds, subject);
}

/** What a proxy reports about its players (one player session: one player on one stream), under its own name. */
export const PlayerEventKinds = ['started', 'ended'] as const;
export type PlayerEventKind = (typeof PlayerEventKinds)[number];

const PLAYER_EVENTS = `${PREFIX}.events.player`;

/** `acefleet.events.player.<kind>.<proxyId>`: like stream events, only proxy `<name>` may publish it. */
export function playerEventSubject(kind: PlayerEventKind, proxyId: string): string {
  return `${PLAYER_EVENTS}.${kind}.${proxyId}`;
}

/** Every proxy's player events of one kind: `acefleet.events.player.<kind>.>`. */
export function playerEventsOf(kind: PlayerEventKind): string {
  return `${PLAYER_EVENTS}.${kind}.>`;
}

/** The kind and sending proxy of a player-event subject, or undefined for any other subject. */
export function parsePlayerEventSubject(
  subject: string,
): { kind: PlayerEventKind; proxyId: string } | undefined {
  return parseProxyEventSubject(PLAYER_EVENTS, PlayerEventKinds, subject);
}

function parseProxyEventSubject<K extends string>(
  base: string,
  kinds: readonly K[],
  subject: string,
): { kind: K; proxyId: string } | undefined {
  if (!subject.startsWith(`${base}.`)) return undefined;
  const [kind, name, run, ...rest] = subject.slice(base.length + 1).split('.');
  if (rest.length > 0 || !name || run === '') return undefined;
  if (!kinds.includes(kind as K)) return undefined;
  return { kind: kind as K, proxyId: run === undefined ? name : proxyIdOf(name, run) };
}

/** JetStream stream that keeps the durable events. */
export const EVENTS_STREAM = 'ACEFLEET_EVENTS';
/**
 * JetStream stream that keeps the samples (`acefleet.samples.>`): one per stream every few seconds, so kept
 * hours where the lifecycle events are kept days.
 */
export const SAMPLES_STREAM = 'ACEFLEET_SAMPLES';
/** KV bucket holding one record per engine, keyed by engine id. */
export const ENGINES_BUCKET = 'acefleet-engines';
/** The JetStream stream that holds the engines bucket. */
export const ENGINES_KV_STREAM = `KV_${ENGINES_BUCKET}`;
/** KV bucket holding one leader lease per Docker host, keyed by host id (managers sharing a HOST_ID elect one). */
export const LEADERS_BUCKET = 'acefleet-leaders';
/** The JetStream stream that holds the leaders bucket. */
export const LEADERS_KV_STREAM = `KV_${LEADERS_BUCKET}`;
/**
 * Bytes a KV bucket holds at most unless KV_MAX_BYTES says otherwise (libs/platform jetstream-bounds.ts), for
 * the libs that create buckets without a service's configuration (channels, player tokens).
 */
export const DEFAULT_KV_MAX_BYTES = 64 * 1024 * 1024;
/** Durable consumer through which stats follows the events stream. */
export const STATS_CONSUMER = 'acefleet-stats';
/** Durable consumer through which stats follows the samples stream. */
export const STATS_SAMPLES_CONSUMER = 'acefleet-stats-samples';

/** NATS micro-service names, as `nats micro ls` shows them. */
export const ServiceNames = {
  edgeProxy: 'acefleet-edge-proxy',
  engineManager: 'acefleet-engine-manager',
  healthMonitor: 'acefleet-health-monitor',
  stats: 'acefleet-stats',
} as const;

/** Docker labels that mark a container as an acefleet engine. Containers without them are never touched. */
export const Labels = {
  managed: 'io.acefleet.managed',
  engineId: 'io.acefleet.engine-id',
  host: 'io.acefleet.host',
  /** The stack a container belongs to (FLEET_ID); every container operation filters on host AND fleet. */
  fleet: 'io.acefleet.fleet',
  httpPort: 'io.acefleet.http-port',
  p2pPort: 'io.acefleet.p2p-port',
  /** Hash of the settings a container was made with (image, preset, network); others are foreign-config. */
  configHash: 'io.acefleet.config-hash',
} as const;
