import {
  JetStreamApiCodes,
  jetstreamManager,
  JetStreamApiError,
  type JetStreamManager,
  type StreamInfo,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import {
  CHANNELS_KV_STREAM,
  ENGINES_KV_STREAM,
  EVENTS_STREAM,
  LEADERS_KV_STREAM,
  SAMPLES_STREAM,
  TOKENS_KV_STREAM,
} from '@acefleet/contracts';
import { defaultJetStreamBounds, type JetStreamBounds } from './jetstream-bounds.ts';
import type { Logger } from '../logger.ts';
import { boundedStreamConfigs, ensureEventsStream, openEnginesKv } from './nats.ts';

/** The streams whose size JS_REPLICAS sets: the events, the samples, the engines bucket's and the leader leases'. */
const sizedStreams = [EVENTS_STREAM, SAMPLES_STREAM, ENGINES_KV_STREAM, LEADERS_KV_STREAM] as const;

/** The streams of every KV bucket: each is held to KV_MAX_BYTES. */
const bucketStreams = [ENGINES_KV_STREAM, LEADERS_KV_STREAM, CHANNELS_KV_STREAM, TOKENS_KV_STREAM] as const;

/**
 * What every service does first on NATS: create the events and samples streams and the engines bucket, each
 * with `replicas` replicas and `bounds`, unless they exist (existing ones are left as they are).
 */
export async function ensureJetStream(
  nc: NatsConnection,
  replicas: number,
  bounds: JetStreamBounds = defaultJetStreamBounds,
): Promise<void> {
  await ensureEventsStream(nc, replicas, bounds);
  await openEnginesKv(nc, replicas, bounds.kvMaxBytes);
}

/** A stream's info, or undefined when it does not exist (yet). */
async function infoOf(jsm: JetStreamManager, stream: string): Promise<StreamInfo | undefined> {
  return jsm.streams.info(stream).catch((err: unknown) => {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return undefined;
    throw err;
  });
}

/**
 * Give every sized stream `replicas` replicas in place (messages kept) where they have another count: a stream
 * made on one node grows to the cluster, or shrinks back. Only engine-manager has the right to (see
 * natsPermissionsOf); the server moves the data and elects leaders by itself.
 */
export async function applyJetStreamReplicas(
  nc: NatsConnection,
  replicas: number,
  log: Logger,
): Promise<void> {
  const jsm = await jetstreamManager(nc);
  for (const stream of sizedStreams) {
    const info = await infoOf(jsm, stream);
    if (!info) continue; // not made yet: whoever makes it gives it `replicas`
    const { config } = info;
    if (config.num_replicas === replicas) continue;
    await jsm.streams.update(stream, { num_replicas: replicas });
    log.info({ stream, from: config.num_replicas, to: replicas }, 'stream replicas changed');
  }
}

/**
 * Hold every existing stream and bucket to `bounds` (age and bytes), where it was made without them (by an
 * older version) or with other ones: the settings win, and an unattended deployment's disk stays bounded.
 * engine-manager only, like the replicas.
 */
export async function applyJetStreamBounds(
  nc: NatsConnection,
  bounds: JetStreamBounds,
  log: Logger,
): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const wanted = new Map<string, { max_age?: number; max_bytes: number }>(
    bucketStreams.map((stream) => [stream, { max_bytes: bounds.kvMaxBytes }]),
  );
  for (const { name, max_age, max_bytes } of boundedStreamConfigs(bounds, 1)) {
    wanted.set(name, { max_age, max_bytes });
  }
  for (const [stream, limits] of wanted) {
    const info = await infoOf(jsm, stream);
    if (!info) continue; // whoever makes it gives it the bounds
    const { config } = info;
    const same =
      config.max_bytes === limits.max_bytes &&
      (limits.max_age === undefined || config.max_age === limits.max_age);
    if (same) continue;
    await jsm.streams.update(stream, limits);
    log.info(
      { stream, maxBytes: limits.max_bytes, maxAgeMs: limits.max_age && limits.max_age / 1e6 },
      'stream bounds applied',
    );
  }
}
