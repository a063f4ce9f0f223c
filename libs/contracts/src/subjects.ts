/** Every NATS name acefleet uses. One prefix, so one account permission covers the system. */
export const PREFIX = 'acefleet';

export const Subjects = {
  engineAcquire: `${PREFIX}.engines.acquire`,
  engineRelease: `${PREFIX}.engines.release`,
  engineList: `${PREFIX}.engines.list`,
  engineRenew: `${PREFIX}.engines.renew`,
  engineStatus: `${PREFIX}.engines.status`,
  engineProvision: `${PREFIX}.engines.provision`,
  engineRemove: `${PREFIX}.engines.remove`,
  engineDrain: `${PREFIX}.engines.drain`,
  /** Per-host endpoints of the manager owning `<hostId>`: see hostSubject. */
  engineHostPrefix: `${PREFIX}.engines.host`,
  streamStarted: `${PREFIX}.events.stream.started`,
  streamEnded: `${PREFIX}.events.stream.ended`,
  /** A playing stream moved to another engine (failover or drain); it keeps its id and its players. */
  streamMoved: `${PREFIX}.events.stream.moved`,
  engineHealth: `${PREFIX}.events.engine.health`,
  /** An engine is draining: proxies move its streams before `deadline`. */
  engineDraining: `${PREFIX}.events.engine.draining`,
  /** Per-proxy endpoints live under `<proxyPrefix>.<instance id>`: see proxySubject (proxy.ts). */
  proxyPrefix: `${PREFIX}.proxy`,
  statsSummary: `${PREFIX}.stats.summary`,
  /** Wildcard covering every durable event. */
  events: `${PREFIX}.events.>`,
} as const;
export type Subject = (typeof Subjects)[keyof typeof Subjects];

/** Subject of a per-host endpoint of the engine manager owning `hostId`. */
export function hostSubject(hostId: string, endpoint: 'acquire' | 'provision' | 'status'): string {
  return `${Subjects.engineHostPrefix}.${hostId}.${endpoint}`;
}

/** Subject of a per-proxy endpoint of the edge proxy whose instance id is `proxyId`. */
export function proxySubject(proxyId: string, endpoint: 'streams' | 'stop' | 'players'): string {
  return `${Subjects.proxyPrefix}.${proxyId}.${endpoint}`;
}

/** JetStream stream that keeps the durable events. */
export const EVENTS_STREAM = 'ACEFLEET_EVENTS';
/** KV bucket holding one record per engine, keyed by engine id. */
export const ENGINES_BUCKET = 'acefleet-engines';
/** The JetStream stream that holds the engines bucket. */
export const ENGINES_KV_STREAM = `KV_${ENGINES_BUCKET}`;
/** KV bucket holding one leader lease per Docker host, keyed by host id (managers sharing a HOST_ID elect one). */
export const LEADERS_BUCKET = 'acefleet-leaders';
/** The JetStream stream that holds the leaders bucket. */
export const LEADERS_KV_STREAM = `KV_${LEADERS_BUCKET}`;
/** Durable consumer through which stats follows the events stream. */
export const STATS_CONSUMER = 'acefleet-stats';

/** NATS micro-service names, as `nats micro ls` shows them. */
export const ServiceNames = {
  edgeProxy: 'acefleet-edge-proxy',
  engineManager: 'acefleet-engine-manager',
  healthMonitor: 'acefleet-health-monitor',
  stats: 'acefleet-stats',
} as const;
export type ServiceName = (typeof ServiceNames)[keyof typeof ServiceNames];

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
