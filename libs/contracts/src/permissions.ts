import { CHANNELS_BUCKET, CHANNELS_KV_STREAM } from './channels.ts';
import { ObservabilitySubjects } from './observability.ts';
import { TOKENS_BUCKET, TOKENS_KV_STREAM } from './players.ts';
import {
  ENGINES_BUCKET,
  EVENTS_STREAM,
  LEADERS_BUCKET,
  LEADERS_KV_STREAM,
  PlayerEventKinds,
  PREFIX,
  SAMPLES_STREAM,
  STATS_CONSUMER,
  STATS_SAMPLES_CONSUMER,
  ServiceNames,
  hostCallSubject,
  hostSubject,
  StreamEventKinds,
  Subjects,
  proxyCallSubject,
  proxyIdOf,
  playerEventSubject,
  proxySubject,
  streamEventSubject,
  streamEventsOf,
} from './subjects.ts';

/**
 * Who may do what on NATS: one user per service, least privilege, plus `operator` with every right (people,
 * the CLI, tests that play the world). nats-server enforces these lists; a denied publish or subscribe is a
 * permission error for the client and a violation in the server log.
 *
 * Each edge proxy has a user of its own (`edge-proxy`, `edge-proxy-1`, …): its name is the first token of
 * its proxy id, and the subjects that carry the id (its stream events, its calls to the manager, its own
 * endpoints) are open to that user only. nats-server 2.9 has no permission templates for users of a config
 * file, so the config lists one user per proxy.
 */
export const NatsUsers = {
  edgeProxy: 'edge-proxy',
  engineManager: 'engine-manager',
  healthMonitor: 'health-monitor',
  stats: 'stats',
  operator: 'operator',
} as const;
/** A fixed user, or the user of a further proxy (`edge-proxy-<n>`, see proxyUserOf). */
export type NatsUser = (typeof NatsUsers)[keyof typeof NatsUsers] | `edge-proxy-${number}`;

/** The NATS user of proxy number `n` of a deployment: `edge-proxy`, then `edge-proxy-1`, `edge-proxy-2`… */
export function proxyUserOf(n: number): NatsUser {
  return n === 0 ? NatsUsers.edgeProxy : `edge-proxy-${n}`;
}

export function isProxyUser(user: string): boolean {
  return user === NatsUsers.edgeProxy || /^edge-proxy-[1-9][0-9]*$/.test(user);
}

/** Every user of a deployment with `proxies` edge proxies (one by default). */
export function natsUsersFor(proxies = 1): NatsUser[] {
  const { edgeProxy: _first, ...fixed } = NatsUsers;
  const proxyUsers = Array.from({ length: Math.max(1, proxies) }, (_, n) => proxyUserOf(n));
  return [...proxyUsers, ...Object.values(fixed)];
}
/** The users of a deployment with one proxy (npm start, compose). */
export const natsUsers: readonly NatsUser[] = natsUsersFor(1);

/** Each user's request replies arrive under its own prefix, so no service can read another's replies. */
export function inboxPrefixOf(user: string): string {
  const fixed = (Object.values(NatsUsers) as string[]).includes(user);
  return user === NatsUsers.operator || !(fixed || isProxyUser(user)) ? '_INBOX' : `_INBOX_${user}`;
}

export interface SubjectRules {
  allow: string[];
  deny?: string[];
}
export interface UserPermissions {
  publish: SubjectRules;
  subscribe: SubjectRules;
  /** May answer requests it received (micro-service endpoints, $SRV.PING/INFO/STATS). */
  allowResponses: boolean;
}

const API = '$JS.API';
const KV_STREAM = `KV_${ENGINES_BUCKET}`;

/**
 * What every service does at boot: find or create the events and samples streams and the engines bucket,
 * never change them.
 */
const bootJetStream = [
  `${API}.INFO`,
  `${API}.STREAM.INFO.${EVENTS_STREAM}`,
  `${API}.STREAM.CREATE.${EVENTS_STREAM}`,
  `${API}.STREAM.INFO.${SAMPLES_STREAM}`,
  `${API}.STREAM.CREATE.${SAMPLES_STREAM}`,
  `${API}.STREAM.INFO.${KV_STREAM}`,
  `${API}.STREAM.CREATE.${KV_STREAM}`,
];

const LEADERS_STREAM = LEADERS_KV_STREAM;

/**
 * Change the replica count (JS_REPLICAS) and the bounds (age, bytes) of the streams and buckets,
 * engine-manager only: it already holds the Docker socket, so this adds little to what a compromised manager
 * could do, and the other services stay unable to change any stream.
 */
const resizeJetStream = [
  EVENTS_STREAM,
  SAMPLES_STREAM,
  KV_STREAM,
  LEADERS_STREAM,
  CHANNELS_KV_STREAM,
  TOKENS_KV_STREAM,
]
  .map((stream) => `${API}.STREAM.UPDATE.${stream}`)
  .concat([CHANNELS_KV_STREAM, TOKENS_KV_STREAM].map((stream) => `${API}.STREAM.INFO.${stream}`));

/**
 * A consumer may be created only through the create API that names it and its filter subject
 * (`CONSUMER.CREATE.<stream>.<name>.<filter>`; nats-server ≥ 2.9 refuses a request whose config has another
 * filter), on filters listed here. The legacy forms (`CONSUMER.CREATE.<stream>`, `DURABLE.CREATE`), whose
 * filter the subject does not show, are allowed to nobody but stats for its durable. What permissions cannot
 * restrict is the deliver subject of a push consumer (nats-server 2.9 does not check it against the
 * creator's publish rights): every endpoint and event subscriber refuses such deliveries instead (libs/platform
 * delivery-guard.ts; docs/security.md).
 */
function createConsumer(stream: string, filter: string): string {
  return `${API}.CONSUMER.CREATE.${stream}.*.${filter}`;
}

/** Read the engines bucket: get (direct or through the API), list and watch it with ordered consumers. */
const readEnginesKv = [
  `${API}.DIRECT.GET.${KV_STREAM}`,
  `${API}.DIRECT.GET.${KV_STREAM}.>`,
  `${API}.STREAM.MSG.GET.${KV_STREAM}`,
  createConsumer(KV_STREAM, `$KV.${ENGINES_BUCKET}.>`),
  `${API}.CONSUMER.INFO.${KV_STREAM}.*`,
  `${API}.CONSUMER.MSG.NEXT.${KV_STREAM}.*`,
  `${API}.CONSUMER.DELETE.${KV_STREAM}.*`,
];

/** The engine managers' leader leases: find or create the bucket, get a lease, write it by compare-and-set. */
const leaderLeases = [
  `${API}.STREAM.INFO.${LEADERS_STREAM}`,
  `${API}.STREAM.CREATE.${LEADERS_STREAM}`,
  `${API}.DIRECT.GET.${LEADERS_STREAM}`,
  `${API}.DIRECT.GET.${LEADERS_STREAM}.>`,
  `${API}.STREAM.MSG.GET.${LEADERS_STREAM}`,
  `$KV.${LEADERS_BUCKET}.>`,
];

/**
 * Ephemeral ordered consumers on the proxies' stream events (started, moved, ended) and stats' proxy.lost:
 * health-monitor's view of what plays. Its own events are not among them, so no consumer it makes can carry a
 * message it wrote.
 */
const followStreamEvents = [
  ...(['started', 'moved', 'ended'] as const).map((kind) =>
    createConsumer(EVENTS_STREAM, streamEventsOf(kind)),
  ),
  createConsumer(EVENTS_STREAM, Subjects.proxyLost),
  `${API}.CONSUMER.INFO.${EVENTS_STREAM}.*`,
  `${API}.CONSUMER.MSG.NEXT.${EVENTS_STREAM}.*`,
  `${API}.CONSUMER.DELETE.${EVENTS_STREAM}.*`,
];

/** A stats durable consumer (the events', the samples'): only stats may create, change, read from or delete it. */
function durableOfStats(stream: string, durable: string): string[] {
  return [
    `${API}.CONSUMER.CREATE.${stream}.${durable}`,
    `${API}.CONSUMER.CREATE.${stream}.${durable}.>`,
    `${API}.CONSUMER.DURABLE.CREATE.${stream}.${durable}`,
    `${API}.CONSUMER.INFO.${stream}.${durable}`,
    `${API}.CONSUMER.MSG.NEXT.${stream}.${durable}`,
    `$JS.ACK.${stream}.${durable}.>`,
  ];
}
const statsConsumer = [
  ...durableOfStats(EVENTS_STREAM, STATS_CONSUMER),
  ...durableOfStats(SAMPLES_STREAM, STATS_SAMPLES_CONSUMER),
];
const notStatsConsumer = [
  ...statsConsumer,
  `${API}.CONSUMER.DELETE.${EVENTS_STREAM}.${STATS_CONSUMER}`,
  `${API}.CONSUMER.DELETE.${SAMPLES_STREAM}.${STATS_SAMPLES_CONSUMER}`,
];

/**
 * A bucket of what players get (channels, player tokens): find or create it (whoever starts first makes it),
 * then read it as readEnginesKv reads the engines (consumers only by the filtered create).
 */
function readPlayerBucket(stream: string, bucket: string): string[] {
  return [
    `${API}.STREAM.INFO.${stream}`,
    `${API}.STREAM.CREATE.${stream}`,
    `${API}.DIRECT.GET.${stream}`,
    `${API}.DIRECT.GET.${stream}.>`,
    `${API}.STREAM.MSG.GET.${stream}`,
    createConsumer(stream, `$KV.${bucket}.>`),
    `${API}.CONSUMER.INFO.${stream}.*`,
    `${API}.CONSUMER.MSG.NEXT.${stream}.*`,
    `${API}.CONSUMER.DELETE.${stream}.*`,
  ];
}

/**
 * The proxy serves the channels and checks player tokens, and its admin API (API key) and PLAYLIST_SOURCES
 * change both buckets; stats only shows channel names. Nobody else touches either bucket.
 */
const proxyPlayerBuckets = [
  ...readPlayerBucket(CHANNELS_KV_STREAM, CHANNELS_BUCKET),
  `$KV.${CHANNELS_BUCKET}.>`,
  ...readPlayerBucket(TOKENS_KV_STREAM, TOKENS_BUCKET),
  `$KV.${TOKENS_BUCKET}.>`,
];

/** Answer the micro-service protocol ($SRV.PING|INFO|STATS) as service `name` only: all, by name, by id. */
function microService(name: string): string[] {
  return ['$SRV.*', `$SRV.*.${name}`, `$SRV.*.${name}.*`];
}

/** A service user: `rules` plus its inbox and micro-service subjects; only stats may touch its durable. */
function service(
  user: NatsUser,
  name: string,
  rules: { publish: string[]; subscribe: string[] },
  ownsStatsConsumer = false,
): UserPermissions {
  return {
    publish: { allow: rules.publish, ...(ownsStatsConsumer ? {} : { deny: notStatsConsumer }) },
    subscribe: { allow: [`${inboxPrefixOf(user)}.>`, ...microService(name), ...rules.subscribe] },
    allowResponses: true,
  };
}

/**
 * An edge proxy named `user`: its calls to the manager, its stream events and its own endpoints all carry its
 * name, so it can act, report and be asked only as itself.
 */
function proxyPermissions(user: NatsUser): UserPermissions {
  return service(user, ServiceNames.edgeProxy, {
    publish: [
      ...bootJetStream,
      ...readEnginesKv,
      ...(['acquire', 'release', 'renew'] as const).map((call) => proxyCallSubject(call, user)),
      ...StreamEventKinds.map((kind) => streamEventSubject(kind, proxyIdOf(user, '*'))),
      ...PlayerEventKinds.map((kind) => playerEventSubject(kind, proxyIdOf(user, '*'))),
      ...proxyPlayerBuckets,
    ],
    subscribe: [
      proxySubject(proxyIdOf(user, '*'), 'streams'),
      proxySubject(proxyIdOf(user, '*'), 'stop'),
      proxySubject(proxyIdOf(user, '*'), 'players'),
      Subjects.engineDraining,
      Subjects.engineHealth,
      ObservabilitySubjects.streamStale,
    ],
  });
}

const fixedPermissions: Record<Exclude<NatsUser, `edge-proxy${string}`>, UserPermissions> = {
  [NatsUsers.engineManager]: service(NatsUsers.engineManager, ServiceNames.engineManager, {
    publish: [
      ...bootJetStream,
      ...resizeJetStream,
      ...readEnginesKv,
      `$KV.${ENGINES_BUCKET}.>`,
      ...leaderLeases,
      // Forwarded to the manager owning the engine, the only writer of its record.
      ...(['acquire', 'drain', 'remove', 'upgrade'] as const).map((call) => hostSubject('*', call)),
      hostCallSubject('*', 'release', '*'),
      hostCallSubject('*', 'renew', '*'),
      Subjects.engineDraining,
      proxySubject(proxyIdOf('*', '*'), 'stop'),
    ],
    subscribe: [`${PREFIX}.engines.>`, Subjects.engineHealth],
  }),
  [NatsUsers.healthMonitor]: service(NatsUsers.healthMonitor, ServiceNames.healthMonitor, {
    publish: [
      ...bootJetStream,
      ...readEnginesKv,
      ...followStreamEvents,
      '$SRV.PING',
      Subjects.engineHealth,
      ObservabilitySubjects.streamStats,
      ObservabilitySubjects.streamStale,
      ObservabilitySubjects.streamStarved,
      ObservabilitySubjects.servicePresence,
      ObservabilitySubjects.engineProbe,
    ],
    subscribe: [],
  }),
  [NatsUsers.stats]: service(
    NatsUsers.stats,
    ServiceNames.stats,
    {
      // The dashboard's actions (key checked by stats' HTTP access policy): drain, remove, stop a stream.
      publish: [
        ...bootJetStream,
        ...readEnginesKv,
        ...statsConsumer,
        ...readPlayerBucket(CHANNELS_KV_STREAM, CHANNELS_BUCKET),
        // Proxy presence, and its finding that a proxy is gone (never a stream event in the proxy's name).
        `$SRV.PING.${ServiceNames.edgeProxy}`,
        Subjects.proxyLost,
        Subjects.engineDrain,
        Subjects.engineRemove,
        proxySubject(proxyIdOf('*', '*'), 'stop'),
      ],
      subscribe: [Subjects.statsSummary, ObservabilitySubjects.engineProbe],
    },
    true,
  ),
  [NatsUsers.operator]: {
    publish: { allow: ['>'] },
    subscribe: { allow: ['>'] },
    allowResponses: false,
  },
};

/** The permissions of `user`: a fixed service's, a proxy's (any `edge-proxy-<n>`), the operator's. */
export function natsPermissionsOf(user: NatsUser): UserPermissions {
  return isProxyUser(user) ? proxyPermissions(user) : fixedPermissions[user as keyof typeof fixedPermissions];
}
