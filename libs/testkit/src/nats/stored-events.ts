import { jetstreamManager } from '@nats-io/jetstream';
import { EVENTS_STREAM } from '@acefleet/contracts';
import { readEvents, type CollectedEvent } from './events.ts';
import type { NatsServer } from './nats-server.ts';

export type StoredEvent<T = unknown> = CollectedEvent<T>;

/** Every event JetStream has stored whose subject matches `subject` (wildcards allowed). */
export async function storedEvents<T = unknown>(
  nats: Pick<NatsServer, 'connect'>,
  subject: string,
): Promise<StoredEvent<T>[]> {
  const nc = await nats.connect();
  try {
    const jsm = await jetstreamManager(nc);
    // No events stream yet: nothing was stored.
    const info = await jsm.streams.info(EVENTS_STREAM).catch(() => undefined);
    if (!info || info.state.messages === 0) return [];
    return await readEvents<T>(nc, subject);
  } finally {
    await nc.close();
  }
}
