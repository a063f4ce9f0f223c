import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import {
  EngineDraining,
  ObservabilitySubjects,
  StreamStale,
  Subjects,
  decodeMessage,
  streamEventSubject,
  type StreamViewers,
} from '@acefleet/contracts';
import { subscribeEvents, type EventPublisher, type Logger } from '@acefleet/platform';
import type { EngineSource } from './engines/engine-source.ts';
import type { StreamHub } from './session/hub.ts';

/** A stream, as far as its viewer count goes. */
interface Watched {
  readonly id: string;
  readonly viewerCount: number;
}

export interface ControlLinkOptions {
  proxyId: string;
  renewIntervalMs: number;
  /** At most one viewer-count event per stream per this long. */
  viewersDebounceMs: number;
}

/**
 * What the proxy hears from and tells the control plane about its streams: it renews its engine claims,
 * moves streams off engines the manager drains and off engine sessions health-monitor found stale (expired),
 * and publishes viewer counts. None of it is on the media path: with NATS down, streams play on.
 */
export class ControlLink {
  private readonly subs: Subscription[] = [];
  private renewTimer: NodeJS.Timeout | undefined;
  private readonly viewerTimers = new Map<string, NodeJS.Timeout>();
  private viewerSeq = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly streams: StreamHub,
    private readonly engines: EngineSource,
    private readonly events: EventPublisher,
    private readonly log: Logger,
    private readonly opts: ControlLinkOptions,
  ) {}

  start(): void {
    this.subs.push(
      subscribeEvents(this.nc, Subjects.engineDraining, this.log, (msg) =>
        this.guard('drain event', () =>
          this.onDraining(decodeMessage(EngineDraining, msg.data, 'drain event')),
        ),
      ),
      subscribeEvents(this.nc, ObservabilitySubjects.streamStale, this.log, (msg) =>
        this.guard('stale event', () => this.onStale(decodeMessage(StreamStale, msg.data, 'stale event'))),
      ),
    );
    this.renewTimer = setInterval(() => void this.renew(), this.opts.renewIntervalMs);
  }

  stop(): void {
    clearInterval(this.renewTimer);
    for (const sub of this.subs) sub.unsubscribe();
    for (const t of this.viewerTimers.values()) clearTimeout(t);
    this.viewerTimers.clear();
  }

  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.warn({ err, what }, 'ignoring a malformed control message');
    }
  }

  private onDraining(event: EngineDraining): void {
    const until = Date.parse(event.deadline);
    for (const stream of this.streams.all()) stream.moveOff(event.engineId, until);
  }

  private onStale(event: StreamStale): void {
    if (event.proxyId !== this.opts.proxyId) return;
    const stream = this.streams.byId(event.streamId);
    if (stream) {
      this.log.info(
        { streamId: stream.id, engineId: event.engineId },
        'engine session expired: moving the stream',
      );
      stream.expireSession(event.engineId);
    }
  }

  /**
   * Renew every claim this proxy holds: its streams' and their hot standbys'. Re-claim the streams' the
   * manager has lost; a standby whose claim it gave up (to a new channel) goes.
   */
  async renew(): Promise<void> {
    const streams = this.streams.all();
    const leases = streams.flatMap((s) => [s.currentLease, s.standbyLease].filter((l) => l !== undefined));
    const lost = new Set(await this.engines.renew(leases));
    if (lost.size === 0) return;
    for (const stream of streams) {
      if (stream.standbyLease && lost.has(stream.standbyLease.claimId)) {
        lost.delete(stream.standbyLease.claimId);
        stream.loseStandbyClaim();
      }
    }
    if (lost.size === 0) return;
    this.log.warn({ lost: lost.size }, 'the engine manager lost some of our claims: claiming again');
    for (const stream of streams) {
      if (stream.currentLease && lost.has(stream.currentLease.claimId)) void stream.reclaim();
    }
  }

  /** Publish a stream's viewer count, at most once per debounce period. */
  viewersChanged(stream: Watched): void {
    if (this.viewerTimers.has(stream.id)) return;
    const timer = setTimeout(() => {
      this.viewerTimers.delete(stream.id);
      const event: StreamViewers = {
        streamId: stream.id,
        proxyId: this.opts.proxyId,
        viewers: stream.viewerCount,
        at: new Date().toISOString(),
      };
      this.events.publish(
        streamEventSubject('viewers', this.opts.proxyId),
        event,
        `${stream.id}:viewers:${++this.viewerSeq}`,
      );
    }, this.opts.viewersDebounceMs);
    this.viewerTimers.set(stream.id, timer);
  }
}
