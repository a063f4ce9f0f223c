import {
  Subjects,
  type ContentRef,
  type EndReason,
  type StreamEnded,
  type StreamStarted,
} from '@acefleet/contracts';
import type { EventPublisher } from '@acefleet/platform';

/** What identifies one proxied session (TS stream or HLS session) in its events. */
export interface SessionIdentity {
  streamId: string;
  content: ContentRef;
  engineId: string;
  proxyId: string;
  startedAt: Date;
}

/** stream.started, with the message id that makes its publication idempotent. */
export function publishStarted(
  events: EventPublisher,
  who: SessionIdentity,
  statUrl: string | undefined,
): void {
  const event: StreamStarted = {
    streamId: who.streamId,
    content: who.content,
    engineId: who.engineId,
    proxyId: who.proxyId,
    startedAt: who.startedAt.toISOString(),
    ...(statUrl ? { statUrl } : {}),
  };
  events.publish(Subjects.streamStarted, event, `${who.streamId}:started`);
}

/** stream.ended, with why and what went through. */
export function publishEnded(
  events: EventPublisher,
  who: SessionIdentity,
  reason: EndReason,
  totals: { bytesIn: number; bytesOut: number; peakClients: number },
): void {
  const event: StreamEnded = {
    streamId: who.streamId,
    content: who.content,
    engineId: who.engineId,
    proxyId: who.proxyId,
    startedAt: who.startedAt.toISOString(),
    endedAt: new Date().toISOString(),
    reason,
    ...totals,
  };
  events.publish(Subjects.streamEnded, event, `${who.streamId}:ended`);
}
