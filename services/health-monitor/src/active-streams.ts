import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import {
  EVENTS_STREAM,
  StreamEnded,
  StreamMoved,
  StreamStarted,
  ProxyLost,
  Subjects,
  decodeMessage,
  decodeStreamEvent,
  streamEventsOf,
  type StreamMoved as Moved,
  type StreamStarted as Started,
} from '@acefleet/contracts';
import { supervise, type Logger, type Supervised } from '@acefleet/platform';

/** The ordered consumer following `subject` was reset: it is replaced by a new one (see ActiveStreams.follow). */
class ConsumerResetError extends Error {
  override name = 'ConsumerResetError';
  constructor(subject: string) {
    super(
      `the consumer of ${subject} was reset (nats-server restarted or heartbeats missed): following anew`,
    );
  }
}

/** How long an ended stream is remembered, so a started event replayed after its ended is ignored. */
const TOMBSTONE_MS = 3600_000;

/**
 * The streams playing now, followed from every proxy's stream.started / stream.moved / stream.ended, and from
 * stats' proxy.lost (the streams of a proxy that is gone). Four ordered consumers (nats-server 2.9 takes one
 * filter subject each) replay the last `lookbackMs` at start and
 * then follow live; they may interleave in any order, so an ended stream leaves a tombstone that a late
 * started event cannot revive, and a move seen before its started event is applied when that arrives. An
 * event whose body names another proxy than its subject (decodeStreamEvent) is ignored.
 */
export class ActiveStreams {
  private readonly streams = new Map<string, Started>();
  private readonly ended = new Map<string, number>();
  /** The latest move of each stream: where it plays now (its engine and stat URL). */
  private readonly moved = new Map<string, Moved>();
  private readonly followers: Supervised[] = [];

  constructor(
    private readonly nc: NatsConnection,
    private readonly log: Logger,
    private readonly lookbackMs: number,
    private readonly onEnded: (streamId: string) => void = () => {},
    private readonly onMoved: (streamId: string) => void = () => {},
  ) {}

  start(): void {
    this.follow(streamEventsOf('started'), (subject, data) => {
      const e = decodeStreamEvent(StreamStarted, subject, data, 'stream.started');
      if (this.ended.has(e.streamId) || !this.mayChange(e)) return;
      this.streams.set(e.streamId, withMove(e, this.moved.get(e.streamId)));
    });
    this.follow(streamEventsOf('moved'), (subject, data) => {
      const e = decodeStreamEvent(StreamMoved, subject, data, 'stream.moved');
      if (this.ended.has(e.streamId) || !this.mayChange(e)) return;
      this.moved.set(e.streamId, e);
      const started = this.streams.get(e.streamId);
      if (started) this.streams.set(e.streamId, withMove(started, e));
      this.onMoved(e.streamId);
    });
    this.follow(streamEventsOf('ended'), (subject, data) => {
      const e = decodeStreamEvent(StreamEnded, subject, data, 'stream.ended');
      if (this.mayChange(e)) this.end(e.streamId);
    });
    // A proxy that is gone ends no stream any more: stats' finding ends those it had started by then.
    this.follow(Subjects.proxyLost, (_subject, data) => {
      const lost = decodeMessage(ProxyLost, data, 'proxy.lost');
      for (const s of this.all()) {
        if (s.proxyId === lost.proxyId && Date.parse(s.startedAt) <= Date.parse(lost.at))
          this.end(s.streamId);
      }
    });
  }

  private end(streamId: string): void {
    this.streams.delete(streamId);
    this.moved.delete(streamId);
    this.ended.set(streamId, Date.now());
    this.onEnded(streamId);
    this.pruneTombstones();
  }

  async stop(): Promise<void> {
    await Promise.all(this.followers.splice(0).map((f) => f.stop()));
  }

  all(): Started[] {
    return [...this.streams.values()];
  }

  get size(): number {
    return this.streams.size;
  }

  /** Replay the last `lookbackMs` of `subject`, then follow it live; a restart replays again (idempotent). */
  private follow(subject: string, apply: (subject: string, data: Uint8Array) => void): void {
    const follower = supervise(`follow ${subject}`, this.log, async (signal) => {
      const consumer = await jetstream(this.nc).consumers.get(EVENTS_STREAM, {
        filter_subjects: subject,
        deliver_policy: DeliverPolicy.StartTime,
        opt_start_time: new Date(Date.now() - this.lookbackMs).toISOString(),
      });
      const messages = await consumer.consume();
      signal.addEventListener('abort', () => void messages.close(), { once: true });
      if (signal.aborted) await messages.close();
      let reset = false;
      const read = async (): Promise<void> => {
        for await (const msg of messages) {
          try {
            apply(msg.subject, msg.data);
          } catch (err) {
            this.log.warn({ err, subject, seq: msg.seq }, 'ignoring malformed stream event');
          }
        }
      };
      // nats.js 3.4 recreates a reset ordered consumer (nats-server restarted, heartbeats missed) with the first
      // config's opt_start_time beside its new start sequence; nats-server refuses that, so it never resumes.
      // A reset ends this run instead, and the supervisor's next one replays the lookback.
      const endOnReset = async (): Promise<void> => {
        for await (const status of messages.status()) {
          if (status.type !== 'reset') continue;
          reset = true;
          await messages.close();
        }
      };
      await Promise.all([read(), endOnReset()]);
      if (reset && !signal.aborted) throw new ConsumerResetError(subject);
    });
    this.followers.push(follower);
  }

  /** A proxy speaks for its own streams only: an event about another proxy's stream id is ignored. */
  private mayChange(e: { streamId: string; proxyId: string }): boolean {
    const known = this.streams.get(e.streamId)?.proxyId ?? this.moved.get(e.streamId)?.proxyId;
    if (known === undefined || known === e.proxyId) return true;
    this.log.warn(
      { streamId: e.streamId, proxyId: e.proxyId, owner: known },
      "ignoring an event about another proxy's stream",
    );
    return false;
  }

  private pruneTombstones(): void {
    const cutoff = Date.now() - TOMBSTONE_MS;
    for (const [id, at] of this.ended) {
      if (at >= cutoff) break;
      this.ended.delete(id);
    }
  }
}

/** A started stream as it is after its latest move: on the new engine, polled at the new stat URL. */
function withMove(started: Started, move: Moved | undefined): Started {
  return move ? { ...started, engineId: move.engineId, statUrl: move.statUrl } : started;
}
