import { JetStreamApiCodes, jetstreamManager, JetStreamApiError } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { ENGINES_KV_STREAM, EVENTS_STREAM, LEADERS_KV_STREAM } from '@acefleet/contracts';
import type { Logger } from '../logger.ts';
import { ensureEventsStream, openEnginesKv } from './nats.ts';

/** The streams whose size JS_REPLICAS sets: the events, the engines bucket's and the leader leases'. */
const sizedStreams = [EVENTS_STREAM, ENGINES_KV_STREAM, LEADERS_KV_STREAM] as const;

/**
 * What every service does first on NATS: create the events stream and the engines bucket, each with
 * `replicas` replicas, unless they exist (existing ones are left as they are).
 */
export async function ensureJetStream(nc: NatsConnection, replicas: number): Promise<void> {
  await ensureEventsStream(nc, replicas);
  await openEnginesKv(nc, replicas);
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
    const info = await jsm.streams.info(stream).catch((err: unknown) => {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return undefined;
      throw err;
    });
    if (!info) continue; // not made yet: whoever makes it gives it `replicas`
    const { config } = info;
    if (config.num_replicas === replicas) continue;
    await jsm.streams.update(stream, { num_replicas: replicas });
    log.info({ stream, from: config.num_replicas, to: replicas }, 'stream replicas changed');
  }
}
