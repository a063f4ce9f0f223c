import { jetstreamManager } from '@nats-io/jetstream';
import { EVENTS_STREAM } from '@acefleet/contracts';
import type { NatsServer } from './nats-server.ts';

export interface StoredEvent<T = unknown> {
  subject: string;
  seq: number;
  data: T;
}

/** Every event JetStream has stored whose subject is `subject` (or starts with it, for `prefix.>`). */
export async function storedEvents<T = unknown>(
  nats: Pick<NatsServer, 'connect'>,
  subject: string,
): Promise<StoredEvent<T>[]> {
  const nc = await nats.connect();
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(EVENTS_STREAM).catch(() => undefined);
    if (!info || info.state.messages === 0) return [];
    const prefix = subject.endsWith('.>') ? subject.slice(0, -1) : undefined;
    const out: StoredEvent<T>[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage(EVENTS_STREAM, { seq }).catch(() => null);
      if (m && (prefix ? m.subject.startsWith(prefix) : m.subject === subject)) {
        out.push({ subject: m.subject, seq, data: m.json<T>() });
      }
    }
    return out;
  } finally {
    await nc.close();
  }
}
