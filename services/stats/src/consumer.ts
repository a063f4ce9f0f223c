import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import {
  AcefleetError,
  EVENTS_STREAM,
  StreamEnded,
  StreamStarted,
  Subjects,
  decodeMessage,
} from '@acefleet/contracts';
import type { Logger } from '@acefleet/platform';
import type { StatsStore } from './store.ts';

/**
 * Follows the event stream with a durable consumer: each event is stored, then acknowledged, so a stats
 * process that stops (or crashes) resumes after the last stored event and nothing is lost or counted twice.
 */
export class EventFollower {
  private stopped = false;
  private stopConsuming: (() => void) | undefined;
  applied = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly store: StatsStore,
    private readonly durableName: string,
    private readonly log: Logger,
    private readonly onApplied: (subject: string) => void = () => {},
  ) {}

  async start(): Promise<void> {
    const jsm = await jetstreamManager(this.nc);
    await jsm.consumers.add(EVENTS_STREAM, {
      durable_name: this.durableName,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: Subjects.events,
      max_ack_pending: 1000,
    });
    const consumer = await jetstream(this.nc).consumers.get(EVENTS_STREAM, this.durableName);
    const messages = await consumer.consume({ max_messages: 256 });
    this.stopConsuming = () => void messages.stop();
    void (async () => {
      for await (const msg of messages) {
        if (this.stopped) break;
        this.apply(msg);
      }
    })();
  }

  private apply(msg: JsMsg): void {
    try {
      if (msg.subject === Subjects.streamStarted) {
        this.store.recordStarted(decodeMessage(StreamStarted, msg.data, 'stream.started'));
      } else if (msg.subject === Subjects.streamEnded) {
        this.store.recordEnded(decodeMessage(StreamEnded, msg.data, 'stream.ended'));
      }
      msg.ack();
      this.applied++;
      this.onApplied(msg.subject);
    } catch (err) {
      if (err instanceof AcefleetError && err.code === 'invalid_message') {
        // A malformed event will never become valid: keep it out of the way instead of redelivering forever.
        this.log.error({ err, subject: msg.subject, seq: msg.seq }, 'discarding malformed event');
        msg.term();
      } else {
        this.log.error({ err, seq: msg.seq }, 'could not store event; it will be redelivered');
        msg.nak(1000);
      }
    }
  }

  stop(): void {
    this.stopped = true;
    this.stopConsuming?.();
  }
}
