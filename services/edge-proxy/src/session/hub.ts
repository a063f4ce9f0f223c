import type { EndReason } from '@acefleet/contracts';
import { FlushClock, flushDelayMs } from '../fanout/flush-clock.ts';
import type { StreamSelector } from './selector.ts';
import { Stream, type StreamDeps } from './stream.ts';

/** How often the watchdog looks at what no event marks (upstream timeouts, stuck players, bitrates). */
const WATCHDOG_MS = 250;

/**
 * Every open stream of this proxy, one per stream key (content plus output options): the multiplexing point.
 * It owns what the streams share: the flush clock and one watchdog timer, which runs while any stream does.
 */
export class StreamHub {
  private readonly streams = new Map<string, Stream>();
  private readonly clock: FlushClock;
  private watchdog: NodeJS.Timeout | undefined;

  /** `onEnded`: told the key of every stream that ends. */
  constructor(
    private readonly deps: Omit<StreamDeps, 'onEnded' | 'clock'>,
    private readonly onEnded: (key: string) => void = () => {},
  ) {
    this.clock = new FlushClock(() => flushDelayMs(this.clientCount(), deps.settings.coalesceMs));
  }

  /** The stream already playing this content with these options, or a new one, started. */
  open({ key, content, options }: StreamSelector): Stream {
    const existing = this.get(key);
    if (existing) return existing;
    const stream = new Stream(key, content, options, {
      ...this.deps,
      clock: this.clock,
      onEnded: (s) => {
        if (this.streams.get(key) === s) this.streams.delete(key);
        this.onEnded(key);
        if (this.streams.size === 0) this.stopWatchdog();
      },
    });
    this.streams.set(key, stream);
    this.watchdog ??= setInterval(() => this.check(), WATCHDOG_MS);
    stream.start();
    return stream;
  }

  /** The live (not ended) stream of a stream key. */
  get(key: string): Stream | undefined {
    const stream = this.streams.get(key);
    return stream && !stream.isEnded() ? stream : undefined;
  }

  /** The live stream with this id (HLS players name it in their URLs). */
  byId(id: string): Stream | undefined {
    for (const stream of this.streams.values()) if (stream.id === id && !stream.isEnded()) return stream;
    return undefined;
  }

  all(): Stream[] {
    return [...this.streams.values()];
  }

  /** Players attached or waiting for their first bytes, over every stream. */
  clientCount(): number {
    let n = 0;
    for (const s of this.streams.values()) n += s.clientCount;
    return n;
  }

  closeAll(reason: EndReason): void {
    for (const stream of this.all()) stream.end(reason);
    this.stopWatchdog();
    this.clock.stop();
  }

  private check(): void {
    const now = Date.now();
    for (const stream of this.streams.values()) stream.checkTimers(now);
  }

  private stopWatchdog(): void {
    clearInterval(this.watchdog);
    this.watchdog = undefined;
  }
}
