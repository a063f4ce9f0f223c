import { DeliverPolicy, jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import {
  ENGINES_BUCKET,
  EVENTS_STREAM,
  SAMPLES_STREAM,
  Subjects,
  type EngineRecord,
} from '@acefleet/contracts';

export interface CollectedEvent<T = unknown> {
  subject: string;
  seq: number;
  data: T;
}

export interface EventCollector<T = unknown> {
  events: CollectedEvent<T>[];
  stop(): Promise<void>;
}

/** The stream that stores `subject`: the samples stream for `acefleet.samples.…`, else the events stream. */
function streamOf(subject: string): string {
  return subject.startsWith(Subjects.samples.slice(0, -1)) ? SAMPLES_STREAM : EVENTS_STREAM;
}

/** An ordered consumer (nothing acknowledged) over `subject` in the stream storing it, from its first message. */
function eventsFromStart(
  nc: NatsConnection,
  subject: string,
): ReturnType<JetStreamClient['consumers']['get']> {
  return jetstream(nc).consumers.get(streamOf(subject), {
    filter_subjects: subject,
    deliver_policy: DeliverPolicy.All,
  });
}

/**
 * Follow the durable events of `subjects` (wildcards allowed; events and samples alike) from the start of the
 * streams that store them into one array, as a test's eyes on what services published.
 */
export async function collectEvents<T = unknown>(
  nc: NatsConnection,
  ...subjects: string[]
): Promise<EventCollector<T>> {
  const events: CollectedEvent<T>[] = [];
  const followed = await Promise.all(
    subjects.map(async (subject) => {
      const messages = await (await eventsFromStart(nc, subject)).consume();
      const done = (async () => {
        for await (const m of messages) {
          events.push({ subject: m.subject, seq: m.seq, data: m.json<T>() });
        }
      })();
      return { messages, done };
    }),
  );
  return {
    events,
    stop: async () => {
      for (const { messages, done } of followed) {
        await messages.close();
        await done;
      }
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
