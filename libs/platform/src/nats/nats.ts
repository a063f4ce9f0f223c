import { connect } from '@nats-io/transport-node';
import { RequestError, TimeoutError, type Msg, type NatsConnection } from '@nats-io/nats-core';
import type { NatsConnectionImpl } from '@nats-io/nats-core/internal';
import { DiscardPolicy, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { Static, TSchema } from '@sinclair/typebox';
import {
  AcefleetError,
  ENGINES_BUCKET,
  EVENTS_STREAM,
  LEADERS_BUCKET,
  SAMPLES_STREAM,
  Subjects,
  decodeMessage,
  inboxPrefixOf,
  ErrorEnvelope,
} from '@acefleet/contracts';
import { defaultJetStreamBounds, type JetStreamBounds } from './jetstream-bounds.ts';
import type { Logger } from '../logger.ts';
import { supervise } from '../supervise.ts';

export type { NatsConnection, KV };

/**
 * The reply-inbox prefix `nc` was connected with (a service user may subscribe to no other inbox). Read from
 * the connection, as nats.js's own JetStream clients do, so an inbox made with it always matches it.
 */
export function inboxPrefixFor(nc: NatsConnection): string {
  return (nc as NatsConnectionImpl).options.inboxPrefix || '_INBOX';
}

/** A NATS user and its password; an empty user connects anonymously. */
export interface NatsAuth {
  user: string;
  password: string;
}

/** Connect-options for `auth`: the user, its password and its own reply inbox prefix. */
export function natsAuthOptions(auth: NatsAuth): { user?: string; pass?: string; inboxPrefix?: string } {
  return auth.user ? { user: auth.user, pass: auth.password, inboxPrefix: inboxPrefixOf(auth.user) } : {};
}

/**
 * One attempt to connect (rejects at once when none of the servers is reachable; NatsLink retries), then
 * reconnect forever: services outlive NATS restarts. `servers` is a comma-separated list (the nodes of a
 * cluster); reconnects go to the servers in random order, waits spread by jitter, so the clients of a dead
 * node do not all land on one other node at the same instant.
 */
export async function connectNats(
  servers: string,
  name: string,
  log: Logger,
  auth: NatsAuth = { user: '', password: '' },
): Promise<NatsConnection> {
  const nc = await connect({
    servers: natsServers(servers),
    name,
    ...natsAuthOptions(auth),
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    reconnectJitter: 500,
    waitOnFirstConnect: false,
  });
  // Ends by itself when the connection closes (the status iterator ends with it).
  supervise('nats status log', log, async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnect')
        log.warn({ nats: s.type }, 'nats connection changed');
    }
  });
  return nc;
}

/** `nats://a:4222, nats://b:4222,` → the servers of the list, blanks dropped. */
export function natsServers(list: string): string[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

const MS_NS = 1_000_000;

/** The stream configs of the events and the samples, as `bounds` say (the duplicate window as before). */
export function boundedStreamConfigs(bounds: JetStreamBounds, replicas: number) {
  const common = {
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    duplicate_window: 10 * 60 * 1e9,
    num_replicas: replicas,
  };
  return [
    {
      ...common,
      name: EVENTS_STREAM,
      subjects: [Subjects.events],
      max_age: bounds.eventsMaxAgeMs * MS_NS,
      max_bytes: bounds.eventsMaxBytes,
    },
    {
      ...common,
      name: SAMPLES_STREAM,
      subjects: [Subjects.samples],
      max_age: bounds.samplesMaxAgeMs * MS_NS,
      max_bytes: bounds.samplesMaxBytes,
      // A sample is worth keeping only once: its id is unique within a minute of its time.
      duplicate_window: 60 * 1e9,
    },
  ];
}

/**
 * Create the durable event stream and the samples stream, with `replicas` replicas and `bounds`, unless they
 * exist (then they are left as they are: applyJetStreamReplicas and applyJetStreamBounds change them); safe
 * to call from every service at start.
 */
export async function ensureEventsStream(
  nc: NatsConnection,
  replicas = 1,
  bounds: JetStreamBounds = defaultJetStreamBounds,
): Promise<void> {
  const jsm = await jetstreamManager(nc);
  for (const config of boundedStreamConfigs(bounds, replicas)) {
    try {
      await jsm.streams.info(config.name);
    } catch {
      await jsm.streams.add(config).catch(async (err: unknown) => {
        // Another service created it between our look-up and add: that is fine.
        await jsm.streams.info(config.name).catch(() => {
          throw err;
        });
      });
    }
  }
}

/** Open the engines KV bucket, creating it with `replicas` replicas and at most `maxBytes` if it does not exist yet. */
export async function openEnginesKv(
  nc: NatsConnection,
  replicas = 1,
  maxBytes = defaultJetStreamBounds.kvMaxBytes,
): Promise<KV> {
  return new Kvm(nc).create(ENGINES_BUCKET, { history: 1, replicas, max_bytes: maxBytes });
}

/** Open (creating if needed) the engine managers' leader-lease bucket (one key per Docker host). */
export async function openLeadersKv(
  nc: NatsConnection,
  replicas = 1,
  maxBytes = defaultJetStreamBounds.kvMaxBytes,
): Promise<KV> {
  return new Kvm(nc).create(LEADERS_BUCKET, { history: 1, replicas, max_bytes: maxBytes });
}

const encoder = new TextEncoder();
export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

/**
 * Request/reply with validation of both ends' contract: the reply is checked against `reply`; a service
 * error reply becomes the AcefleetError it carries; no responders and timeouts become
 * control_plane_unavailable so callers can fall back.
 */
export async function requestJson<T extends TSchema>(
  nc: NatsConnection,
  subject: string,
  payload: unknown,
  reply: T,
  timeoutMs: number,
): Promise<Static<T>> {
  let msg;
  try {
    msg = await nc.request(subject, encodeJson(payload), { timeout: timeoutMs });
  } catch (err) {
    const why = err instanceof RequestError && err.isNoResponders() ? 'no responders' : 'no answer';
    const timedOut =
      err instanceof TimeoutError || (err instanceof Error && err.cause instanceof TimeoutError);
    throw new AcefleetError('control_plane_unavailable', `${subject}: ${timedOut ? 'timed out' : why}`, {
      cause: err,
      retryAfterMs: 1000,
    });
  }
  return decodeReply(subject, msg, reply);
}

/** A micro service's reply: its value, or the AcefleetError its service-error headers carry. */
export function decodeReply<T extends TSchema>(subject: string, msg: Msg, reply: T): Static<T> {
  if (msg.headers?.get('Nats-Service-Error-Code')) {
    const body = decodeMessage(ErrorEnvelope, msg.data, `${subject} error reply`);
    throw AcefleetError.fromBody(body);
  }
  return decodeMessage(reply, msg.data, `${subject} reply`);
}
