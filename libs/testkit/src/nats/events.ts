import { DeliverPolicy, jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { ENGINES_BUCKET, EVENTS_STREAM, type EngineRecord } from '@acefleet/contracts';

export interface CollectedEvent<T = unknown> {
  subject: string;
  seq: number;
  data: T;
}

export interface EventCollector<T = unknown> {
  events: CollectedEvent<T>[];
  stop(): Promise<void>;
}

/** An ordered consumer (nothing acknowledged) over the events stream's `subject`, from its first message. */
function eventsFromStart(
  nc: NatsConnection,
  subject: string,
): ReturnType<JetStreamClient['consumers']['get']> {
  return jetstream(nc).consumers.get(EVENTS_STREAM, {
    filter_subjects: subject,
    deliver_policy: DeliverPolicy.All,
  });
}

/**
 * Follow the durable events of `subject` (wildcards allowed) from the start of the events stream into an
 * array, as a test's eyes on what services published.
 */
export async function collectEvents<T = unknown>(
  nc: NatsConnection,
  subject: string,
): Promise<EventCollector<T>> {
  const messages = await (await eventsFromStart(nc, subject)).consume();
  const events: CollectedEvent<T>[] = [];
  const done = (async () => {
    for await (const m of messages) {
      events.push({ subject: m.subject, seq: m.seq, data: m.json<T>() });
    }
  })();
  return {
    events,
    stop: async () => {
      await messages.close();
      await done;
    },
  };
}

/** The events of `subject` (wildcards allowed) stored so far, oldest first. */
export async function readEvents<T = unknown>(
  nc: NatsConnection,
  subject: string,
): Promise<CollectedEvent<T>[]> {
  const consumer = await eventsFromStart(nc, subject);
  const events: CollectedEvent<T>[] = [];
  if ((await consumer.info()).num_pending === 0) return events;
  const messages = await consumer.consume();
  for await (const m of messages) {
    events.push({ subject: m.subject, seq: m.seq, data: m.json<T>() });
    if (m.info.pending === 0) break;
  }
  await messages.close();
  return events;
}

/** Write an engine record to the engines bucket, as engine-manager would. */
export async function putEngineRecord(nc: NatsConnection, record: EngineRecord): Promise<number> {
  const kv = await new Kvm(nc).create(ENGINES_BUCKET, { history: 1 });
  return kv.put(record.id, JSON.stringify(record));
}

/** An engine record for `baseUrl`, ready and without claims. */
export function readyEngine(id: string, baseUrl: string, createdAt = new Date()): EngineRecord {
  const at = createdAt.toISOString();
  return {
    id,
    hostId: 'test',
    baseUrl,
    state: 'ready',
    capacity: 2,
    claims: [],
    createdAt: at,
    updatedAt: at,
  };
}
