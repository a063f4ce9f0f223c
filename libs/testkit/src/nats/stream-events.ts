import { randomBytes } from 'node:crypto';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import {
  streamEventSubject,
  type EndReason,
  type StreamEnded,
  type StreamStarted,
} from '@acefleet/contracts';

/** A random 40-hex content id (or infohash). */
export function randomContentId(): string {
  return randomBytes(20).toString('hex');
}

/** A stream.started event as a proxy publishes it, random content unless `opts` says otherwise. */
export function streamStarted(streamId: string, opts: Partial<StreamStarted> = {}): StreamStarted {
  return {
    streamId,
    content: { kind: 'id', value: randomContentId() },
    engineId: 'engine-a',
    proxyId: 'proxy-a',
    startedAt: new Date().toISOString(),
    ...opts,
  };
}

/** The stream.ended event of stream `s`, ending now. */
export function streamEnded(
  s: StreamStarted,
  reason: EndReason,
  bytesOut: number,
  peakClients = 1,
): StreamEnded {
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

/**
 * Publish a stream event to JetStream as proxy `e.proxyId`'s EventPublisher does: under that proxy's subject,
 * message id = dedup key.
 */
export async function publishStreamEvent(nc: NatsConnection, e: StreamStarted | StreamEnded): Promise<void> {
  const isEnd = 'endedAt' in e;
  await jetstream(nc).publish(streamEventSubject(isEnd ? 'ended' : 'started', e.proxyId), JSON.stringify(e), {
    msgID: `${e.streamId}:${isEnd ? 'ended' : 'started'}`,
  });
}
