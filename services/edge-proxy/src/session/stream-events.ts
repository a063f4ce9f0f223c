import {
  streamEventSubject,
  type ContentRef,
  type EndReason,
  type MoveReason,
  type StreamEnded,
  type StreamMoved,
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
  events.publish(streamEventSubject('started', who.proxyId), event, `${who.streamId}:started`);
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
  events.publish(streamEventSubject('ended', who.proxyId), event, `${who.streamId}:ended`);
}

/** A move under way: where from and why, until the new engine's first byte completes it. */
export interface PendingMove {
  previousEngineId: string;
  reason: MoveReason;
  /** When the last byte came from the previous engine. */
  lastByteAt: number;
}

/** A drain or a frozen picture or sound moves the stream for that reason; any other loss is a failover. */
export function moveReasonOf(loss: EndReason): MoveReason {
  if (loss === 'engine_drained') return 'drain';
  return loss === 'video_frozen' || loss === 'audio_frozen' ? loss : 'failover';
}

/**
 * stream.moved, at the new engine's first byte (`who` names the new engine). `seq` counts the session's
 * moves (1, 2, …) and makes the message id, so a republished move is stored once.
 */
export function publishMoved(
  events: EventPublisher,
  who: SessionIdentity,
  move: PendingMove,
  statUrl: string,
  seq: number,
): void {
  const now = Date.now();
  const event: StreamMoved = {
    streamId: who.streamId,
    content: who.content,
    proxyId: who.proxyId,
    previousEngineId: move.previousEngineId,
    engineId: who.engineId,
    statUrl,
    gapMs: Math.max(0, Math.round(now - move.lastByteAt)),
    reason: move.reason,
    at: new Date(now).toISOString(),
  };
  events.publish(streamEventSubject('moved', who.proxyId), event, `${who.streamId}:moved:${seq}`);
}

/** One stream's lifecycle events: `started` at most once (before `ended`, if the stream reached an engine). */
export class StreamReporter {
  private startedSent = false;

  constructor(
    private readonly events: EventPublisher,
    private readonly who: Omit<SessionIdentity, 'engineId'>,
  ) {}

  identity(engineId: string): SessionIdentity {
    return { ...this.who, engineId };
  }

  started(engineId: string | undefined, statUrl: string | undefined): void {
    if (this.startedSent) return;
    this.startedSent = true;
    publishStarted(this.events, this.identity(engineId ?? 'unknown'), statUrl);
  }

  /** Sessions that reached an engine are reported even if they failed; others never were streams. */
  ended(
    engineId: string | undefined,
    statUrl: string | undefined,
    reason: EndReason,
    totals: { bytesIn: number; bytesOut: number; peakClients: number },
  ): void {
    if (engineId === undefined) return;
    this.started(engineId, statUrl);
    publishEnded(this.events, this.identity(engineId), reason, totals);
  }
}
