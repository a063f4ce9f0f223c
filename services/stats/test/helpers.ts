import { randomBytes } from 'node:crypto';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import {
  NatsUsers,
  Subjects,
  type EndReason,
  type StreamEnded,
  type StreamStarted,
} from '@acefleet/contracts';
import { entries, freePort, startService, type NatsServer, type ServiceProcess } from '@acefleet/testkit';

/** Stats as a real process on a free port, with its database at `dbPath`. */
export async function startStats(
  nats: NatsServer,
  dbPath: string,
  env: Record<string, string> = {},
): Promise<ServiceProcess> {
  const port = await freePort();
  return startService('stats', {
    entry: entries.stats,
    port,
    env: { ...nats.env(NatsUsers.stats), HTTP_PORT: String(port), DB_PATH: dbPath, ...env },
  });
}

export function hex40(): string {
  return randomBytes(20).toString('hex');
}

export function started(streamId: string, opts: Partial<StreamStarted> = {}): StreamStarted {
  return {
    streamId,
    content: { kind: 'id', value: hex40() },
    engineId: 'engine-a',
    proxyId: 'proxy-a',
    startedAt: new Date().toISOString(),
    ...opts,
  };
}

export function ended(s: StreamStarted, reason: EndReason, bytesOut: number, peakClients = 1): StreamEnded {
  return {
    streamId: s.streamId,
    content: s.content,
    engineId: s.engineId,
    proxyId: s.proxyId,
    startedAt: s.startedAt,
    endedAt: new Date().toISOString(),
    reason,
    bytesIn: Math.floor(bytesOut / 2),
    bytesOut,
    peakClients,
  };
}

/** Publish a stream event to JetStream as a proxy's EventPublisher does (message id = dedup key). */
export async function publishStream(nc: NatsConnection, e: StreamStarted | StreamEnded): Promise<void> {
  const isEnd = 'endedAt' in e;
  await jetstream(nc).publish(isEnd ? Subjects.streamEnded : Subjects.streamStarted, JSON.stringify(e), {
    msgID: `${e.streamId}:${isEnd ? 'ended' : 'started'}`,
  });
}
