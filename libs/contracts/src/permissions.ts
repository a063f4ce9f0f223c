import { CHANNELS_BUCKET, CHANNELS_KV_STREAM } from './channels.ts';
import { ObservabilitySubjects } from './observability.ts';
import { PlayerSubjects, TOKENS_BUCKET, TOKENS_KV_STREAM } from './players.ts';
import {
  ENGINES_BUCKET,
  EVENTS_STREAM,
  LEADERS_BUCKET,
  LEADERS_KV_STREAM,
  PREFIX,
  STATS_CONSUMER,
  ServiceNames,
  Subjects,
  proxySubject,
} from './subjects.ts';

/**
 * Who may do what on NATS: one user per service, least privilege, plus `operator` with every right (people,
 * the CLI, tests that play the world). nats-server enforces these lists; a denied publish or subscribe is a
 * permission error for the client and a violation in the server log.
 */
export const NatsUsers = {
  edgeProxy: 'edge-proxy',
  engineManager: 'engine-manager',
  healthMonitor: 'health-monitor',
  stats: 'stats',
  operator: 'operator',
} as const;
export type NatsUser = (typeof NatsUsers)[keyof typeof NatsUsers];
export const natsUsers: readonly NatsUser[] = Object.values(NatsUsers);

/** Each user's request replies arrive under its own prefix, so no service can read another's replies. */
export function inboxPrefixOf(user: string): string {
  return user === NatsUsers.operator || !natsUsers.includes(user as NatsUser) ? '_INBOX' : `_INBOX_${user}`;
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

/** What every service does at boot: find or create the events stream and the engines bucket, never change them. */
const bootJetStream = [
  `${API}.INFO`,
  `${API}.STREAM.INFO.${EVENTS_STREAM}`,
  `${API}.STREAM.CREATE.${EVENTS_STREAM}`,
  `${API}.STREAM.INFO.${KV_STREAM}`,
  `${API}.STREAM.CREATE.${KV_STREAM}`,
];

const LEADERS_STREAM = LEADERS_KV_STREAM;

/**
 * Change the replica count of the three streams (JS_REPLICAS), engine-manager only: it already holds the Docker
 * socket, so this adds little to what a compromised manager could do, and the other services stay unable
 * to change either stream.
 */
const resizeJetStream = [
  `${API}.STREAM.UPDATE.${EVENTS_STREAM}`,
  `${API}.STREAM.UPDATE.${KV_STREAM}`,
  `${API}.STREAM.UPDATE.${LEADERS_STREAM}`,
];

/** Read the engines bucket: get (direct or through the API), list and watch it with ordered consumers. */
const readEnginesKv = [
  `${API}.DIRECT.GET.${KV_STREAM}`,
  `${API}.DIRECT.GET.${KV_STREAM}.>`,
  `${API}.STREAM.MSG.GET.${KV_STREAM}`,
  `${API}.CONSUMER.CREATE.${KV_STREAM}.>`,
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
 * Ephemeral ordered consumers on the events stream. Only the named create (`CREATE.<stream>.<name>`, which
 * the server checks against the config's name) is allowed, and the stats durable is denied to all but stats.
 */
const followEvents = [
  `${API}.CONSUMER.CREATE.${EVENTS_STREAM}.>`,
  `${API}.CONSUMER.INFO.${EVENTS_STREAM}.*`,
  `${API}.CONSUMER.MSG.NEXT.${EVENTS_STREAM}.*`,
  `${API}.CONSUMER.DELETE.${EVENTS_STREAM}.*`,
];

/** The stats durable consumer: only stats may create, change, read from or delete it. */
const statsConsumer = [
  `${API}.CONSUMER.CREATE.${EVENTS_STREAM}.${STATS_CONSUMER}`,
  `${API}.CONSUMER.CREATE.${EVENTS_STREAM}.${STATS_CONSUMER}.>`,
  `${API}.CONSUMER.DURABLE.CREATE.${EVENTS_STREAM}.${STATS_CONSUMER}`,
  `${API}.CONSUMER.INFO.${EVENTS_STREAM}.${STATS_CONSUMER}`,
  `${API}.CONSUMER.MSG.NEXT.${EVENTS_STREAM}.${STATS_CONSUMER}`,
  `$JS.ACK.${EVENTS_STREAM}.${STATS_CONSUMER}.>`,
];
const notStatsConsumer = [...statsConsumer, `${API}.CONSUMER.DELETE.${EVENTS_STREAM}.${STATS_CONSUMER}`];

/**
 * A bucket of what players get (channels, player tokens): find or create it (whoever starts first makes it),
 * then read it as readEnginesKv reads the engines.
 */
function readPlayerBucket(stream: string): string[] {
  return [
    `${API}.STREAM.INFO.${stream}`,
    `${API}.STREAM.CREATE.${stream}`,
    `${API}.DIRECT.GET.${stream}`,
    `${API}.DIRECT.GET.${stream}.>`,
    `${API}.STREAM.MSG.GET.${stream}`,
    `${API}.CONSUMER.CREATE.${stream}.>`,
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
  ...readPlayerBucket(CHANNELS_KV_STREAM),
  `$KV.${CHANNELS_BUCKET}.>`,
  ...readPlayerBucket(TOKENS_KV_STREAM),
  `$KV.${TOKENS_BUCKET}.>`,
];

/** Answer the micro-service protocol ($SRV.PING|INFO|STATS, all, by name and by id). */
const microService = ['$SRV.>'];

function service(
  user: NatsUser,
  rules: { publish: string[]; subscribe: string[]; denyPublish?: string[] },
): UserPermissions {
  return {
    publish: { allow: rules.publish, ...(rules.denyPublish ? { deny: rules.denyPublish } : {}) },
    subscribe: { allow: [`${inboxPrefixOf(user)}.>`, ...microService, ...rules.subscribe] },
    allowResponses: true,
  };
}

export const NatsPermissions: Record<NatsUser, UserPermissions> = {
  [NatsUsers.edgeProxy]: service(NatsUsers.edgeProxy, {
    publish: [
      ...bootJetStream,
      ...readEnginesKv,
      Subjects.engineAcquire,
      Subjects.engineRelease,
      Subjects.engineRenew,
      Subjects.streamStarted,
      Subjects.streamMoved,
      Subjects.streamEnded,
      ObservabilitySubjects.streamViewers,
      ...proxyPlayerBuckets,
      PlayerSubjects.sessionStarted,
      PlayerSubjects.sessionEnded,
    ],
    subscribe: [
      `${Subjects.proxyPrefix}.>`,
      Subjects.engineDraining,
      Subjects.engineHealth,
      ObservabilitySubjects.streamStale,
    ],
    denyPublish: notStatsConsumer,
  }),
  [NatsUsers.engineManager]: service(NatsUsers.engineManager, {
    publish: [
      ...bootJetStream,
      ...resizeJetStream,
      ...readEnginesKv,
      `$KV.${ENGINES_BUCKET}.>`,
      ...leaderLeases,
      `${Subjects.engineHostPrefix}.*.acquire`,
      Subjects.engineDraining,
      proxySubject('*', 'stop'),
    ],
    subscribe: [`${PREFIX}.engines.>`, Subjects.engineHealth],
    denyPublish: notStatsConsumer,
  }),
  [NatsUsers.healthMonitor]: service(NatsUsers.healthMonitor, {
    publish: [
      ...bootJetStream,
      ...readEnginesKv,
      ...followEvents,
      '$SRV.PING',
      Subjects.engineHealth,
      ObservabilitySubjects.streamStats,
      ObservabilitySubjects.streamStale,
      ObservabilitySubjects.streamStarved,
      ObservabilitySubjects.servicePresence,
    ],
    subscribe: [],
    denyPublish: notStatsConsumer,
  }),
  [NatsUsers.stats]: service(NatsUsers.stats, {
    // The dashboard's actions (key checked by stats' HTTP access policy): drain, remove, stop a stream.
    publish: [
      ...bootJetStream,
      ...readEnginesKv,
      ...statsConsumer,
      ...readPlayerBucket(CHANNELS_KV_STREAM),
      // Proxy presence, and the stream.ended (reason proxy_lost) it publishes for a proxy that is gone.
      `$SRV.PING.${ServiceNames.edgeProxy}`,
      Subjects.streamEnded,
      Subjects.engineDrain,
      Subjects.engineRemove,
      proxySubject('*', 'stop'),
    ],
    subscribe: [Subjects.statsSummary],
  }),
  [NatsUsers.operator]: {
    publish: { allow: ['>'] },
    subscribe: { allow: ['>'] },
    allowResponses: false,
  },
};
