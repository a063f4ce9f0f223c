import {
  AcefleetError,
  ObservabilitySubjects,
  type StreamStale,
  type StreamStarted,
  type StreamStarved,
  type StreamStats,
} from '@acefleet/contracts';
import type { EngineStat } from '@acefleet/engine-client';
import type { EventPublisher, Logger } from '@acefleet/platform';
import { Counter, Gauge, type Registry } from 'prom-client';

export type ReadStat = (statUrl: string, timeoutMs: number) => Promise<EngineStat>;

export interface PollerOptions {
  statIntervalMs: number;
  statTimeoutMs: number;
  starvedAfterMs: number;
}

interface PollState {
  /** The session polled: a stream that moves to another engine is polled afresh at its new stat URL. */
  statUrl: string;
  polling: boolean;
  stale: boolean;
  starved: boolean;
  zeroPeersSince: number | undefined;
  last: StreamStats | undefined;
}

/**
 * Reads every active stream's stat_url on a fixed cadence (concurrently, each read with its own timeout) and
 * publishes what it learns: a stats sample per read; a stale event when the engine no longer knows the
 * session; a starved event when the stream has had zero peers for `starvedAfterMs` (and again on recovery).
 */
export class StreamPoller {
  private readonly states = new Map<string, PollState>();
  private timer: NodeJS.Timeout | undefined;
  private readonly reads: Counter;

  /** `streams`: the streams whose stat URL may be read (statUrlFilter), with one. */
  constructor(
    private readonly streams: () => StreamStarted[],
    private readonly readStat: ReadStat,
    private readonly events: EventPublisher,
    private readonly opts: PollerOptions,
    private readonly log: Logger,
    registry: Registry,
  ) {
    this.reads = new Counter({
      name: 'acefleet_health_stat_reads_total',
      help: 'Stream stat_url reads, by result',
      labelNames: ['result'],
      registers: [registry],
    });
    const count = (pick: (s: PollState) => boolean): number => [...this.states.values()].filter(pick).length;
    new Gauge({
      name: 'acefleet_health_streams',
      help: 'Streams followed by the health monitor, by condition',
      labelNames: ['condition'],
      registers: [registry],
      collect() {
        this.set(
          { condition: 'polled' },
          count((s) => !s.stale),
        );
        this.set(
          { condition: 'stale' },
          count((s) => s.stale),
        );
        this.set(
          { condition: 'starved' },
          count((s) => s.starved),
        );
      },
    });
  }

  start(): void {
    this.tick();
    this.timer = setInterval(() => this.tick(), this.opts.statIntervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /**
   * Forget a stream at once, instead of at the next tick: it ended, or it moved (then it is polled afresh at
   * its new stat URL, and a read of the old session still out is ignored).
   */
  forget(streamId: string): void {
    this.states.delete(streamId);
  }

  snapshot(): { streamId: string; stale: boolean; starved: boolean; last: StreamStats | null }[] {
    return [...this.states].map(([streamId, s]) => ({
      streamId,
      stale: s.stale,
      starved: s.starved,
      last: s.last ?? null,
    }));
  }

  private tick(): void {
    const streams = this.streams().filter((s) => s.statUrl);
    const ids = new Set(streams.map((s) => s.streamId));
    for (const id of this.states.keys()) if (!ids.has(id)) this.states.delete(id);
    for (const stream of streams) {
      let state = this.states.get(stream.streamId);
      if (state === undefined || state.statUrl !== stream.statUrl) {
        state = {
          statUrl: stream.statUrl!,
          polling: false,
          stale: false,
          starved: false,
          zeroPeersSince: undefined,
          last: undefined,
        };
        this.states.set(stream.streamId, state);
      }
      if (!state.polling && !state.stale) void this.pollOne(stream, state);
    }
  }

  private async pollOne(stream: StreamStarted, state: PollState): Promise<void> {
    state.polling = true;
    try {
      const stat = await this.readStat(state.statUrl, this.opts.statTimeoutMs);
      // The stream moved (or ended) while the read was out: what the old session says no longer counts.
      if (this.states.get(stream.streamId) !== state) return;
      this.reads.inc({ result: 'ok' });
      this.onStat(stream, state, stat);
    } catch (err) {
      if (this.states.get(stream.streamId) !== state) return;
      if (err instanceof AcefleetError && err.code === 'stream_not_found') {
        this.reads.inc({ result: 'unknown_session' });
        this.onStale(stream, state, err.message);
      } else {
        this.reads.inc({ result: 'failed' });
        this.log.debug({ err, streamId: stream.streamId }, 'stat read failed');
      }
    } finally {
      state.polling = false;
    }
  }

  private onStat(stream: StreamStarted, state: PollState, stat: EngineStat): void {
    const now = Date.now();
    const sample: StreamStats = {
      ...refOf(stream),
      status: (stat.status ?? 'unknown').slice(0, 32),
      peers: whole(stat.peers),
      speedDownKBps: Math.max(0, stat.speed_down ?? stat.speedDown ?? 0),
      speedUpKBps: Math.max(0, stat.speed_up ?? stat.speedUp ?? 0),
      downloadedBytes: whole(stat.downloaded),
      uploadedBytes: whole(stat.uploaded),
      at: new Date(now).toISOString(),
    };
    state.last = sample;
    this.events.publish(ObservabilitySubjects.streamStats, sample, `${stream.streamId}:stats:${sample.at}`);

    if (sample.peers > 0) {
      state.zeroPeersSince = undefined;
      if (state.starved) this.setStarved(stream, state, false, 0);
      return;
    }
    state.zeroPeersSince ??= now;
    const zeroFor = now - state.zeroPeersSince;
    if (!state.starved && zeroFor >= this.opts.starvedAfterMs) this.setStarved(stream, state, true, zeroFor);
  }

  private setStarved(stream: StreamStarted, state: PollState, starved: boolean, zeroPeersMs: number): void {
    state.starved = starved;
    const event: StreamStarved = { ...refOf(stream), starved, zeroPeersMs, at: new Date().toISOString() };
    this.log.info({ streamId: stream.streamId, starved, zeroPeersMs }, 'stream starvation changed');
    this.events.publish(
      ObservabilitySubjects.streamStarved,
      event,
      `${stream.streamId}:starved:${starved}:${event.at}`,
    );
  }

  /** Published once per stream: the owning proxy ends the stream, and its stream.ended retires it here. */
  private onStale(stream: StreamStarted, state: PollState, detail: string): void {
    state.stale = true;
    const event: StreamStale = {
      ...refOf(stream),
      reason: 'unknown_session',
      detail: detail.slice(0, 500),
      at: new Date().toISOString(),
    };
    this.log.warn({ streamId: stream.streamId, proxyId: stream.proxyId }, 'stream is stale');
    this.events.publish(ObservabilitySubjects.streamStale, event, `${stream.streamId}:stale`);
  }
}

function refOf(s: StreamStarted): Pick<StreamStats, 'streamId' | 'proxyId' | 'engineId' | 'content'> {
  return { streamId: s.streamId, proxyId: s.proxyId, engineId: s.engineId, content: s.content };
}

function whole(n: number | undefined): number {
  return Math.max(0, Math.round(n ?? 0));
}
