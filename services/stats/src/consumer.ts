import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { AcefleetError } from '@acefleet/contracts';
import { supervise, type Logger, type Supervised } from '@acefleet/platform';
import type { AppliedEvent } from './apply-event.ts';

export type Applier = (subject: string, seq: number, received: Date, payload: Uint8Array) => AppliedEvent;

/** Which stream a follower reads, through which durable consumer, and how long a delivery may stay unacknowledged. */
export interface FollowedStream {
  stream: string;
  durableName: string;
  /** The stream's subjects (`acefleet.events.>`, `acefleet.samples.>`). */
  filterSubject: string;
  ackWaitMs: number;
}

/**
 * Follows a stream (the events, the samples) with a durable consumer: each event is stored, then acknowledged, so a stats
 * process that stops (or crashes) resumes after the last stored event and nothing is lost or counted twice
 * (an event stored but not yet acknowledged comes again and is a no-op the second time). When storing fails
 * (database locked, disk full) `onStoreFailed` hears it; pause() stops consuming until resume(), and what
 * was handed out meanwhile is redelivered after ack_wait.
 */
export class EventFollower {
  private stopped = false;
  private consuming: Supervised | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly applier: Applier,
    private readonly opts: FollowedStream,
    private readonly log: Logger,
    private readonly onApplied: (event: AppliedEvent) => void = () => {},
    private readonly onStoreFailed: (err: unknown) => void = () => {},
  ) {}

  async start(): Promise<void> {
    const { stream, durableName, filterSubject, ackWaitMs } = this.opts;
    const jsm = await jetstreamManager(this.nc);
    // Events handed to a process that crashed come again after ack_wait; storing one takes milliseconds.
    const ackWait = ackWaitMs * 1_000_000;
    // Not there yet (first start): it is created below, which reports any other failure.
    const existing = await jsm.consumers.info(stream, durableName).catch(() => undefined);
    if (!existing) {
      await jsm.consumers.add(stream, {
        durable_name: durableName,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        filter_subject: filterSubject,
        max_ack_pending: 1000,
        ack_wait: ackWait,
      });
    } else if (existing.config.ack_wait !== ackWait) {
      await jsm.consumers.update(stream, durableName, { ack_wait: ackWait });
    }
    this.resume();
  }

  /** Stop taking events (storing them fails); resume() starts again from the first unacknowledged one. */
  pause(): void {
    void this.consuming?.stop();
    this.consuming = undefined;
  }

  resume(): void {
    if (this.stopped || this.consuming) return;
    this.consuming = supervise('event consumer', this.log, (signal) => this.consume(signal));
  }

  private async consume(signal: AbortSignal): Promise<void> {
    const consumer = await jetstream(this.nc).consumers.get(this.opts.stream, this.opts.durableName);
    const messages = await consumer.consume({ max_messages: 256 });
    signal.addEventListener('abort', () => messages.stop(), { once: true });
    if (signal.aborted) messages.stop();
    for await (const msg of messages) {
      // Messages already handed to us when paused are left unacknowledged: they come again after ack_wait.
      if (signal.aborted) break;
      this.apply(msg);
    }
  }

  private apply(msg: JsMsg): void {
    let event: AppliedEvent;
    try {
      event = this.applier(msg.subject, msg.seq, msg.time, msg.data);
    } catch (err) {
      if (err instanceof AcefleetError && err.code === 'invalid_message') {
        // A malformed event will never become valid: keep it out of the way instead of redelivering forever.
        this.log.error({ err, subject: msg.subject, seq: msg.seq }, 'discarding malformed event');
        msg.term();
      } else {
        this.log.error({ err, seq: msg.seq }, 'could not store event; it will be redelivered');
        msg.nak(1000);
        this.onStoreFailed(err);
      }
      return;
    }
    msg.ack();
    this.onApplied(event);
  }

  stop(): void {
    this.stopped = true;
    this.pause();
  }
}
