/** Something with bytes waiting to be written to its players. */
export interface Flushable {
  flush(now: number): void;
}

/**
 * How long arriving bytes may wait to be written, so each player gets fewer, larger writes: 1 ms per 10
 * players the proxy serves, from 5 ms up to `maxMs`. A few players get bytes almost as they arrive; a
 * thousand share the cost of a write syscall per player per 100 ms instead of per engine chunk.
 */
export function flushDelayMs(totalClients: number, maxMs: number): number {
  return Math.min(maxMs, Math.max(5, Math.round(totalClients / 10)));
}

/**
 * One flush clock for every stream of the proxy: a stream with new bytes marks itself due, and one timer
 * flushes every due stream together. The cost is one wake-up per window for the whole proxy, however many
 * streams it plays; with nothing due, no timer runs.
 */
export class FlushClock {
  private due = new Set<Flushable>();
  private timer: NodeJS.Timeout | undefined;
  private lastTickAt = 0;

  constructor(private readonly delayMs: () => number) {}

  mark(stream: Flushable): void {
    this.due.add(stream);
    if (this.timer) return;
    const wait = this.lastTickAt + this.delayMs() - Date.now();
    this.timer = setTimeout(() => this.tick(), Math.max(0, wait));
  }

  /** The stream has gone: never flush it again. */
  forget(stream: Flushable): void {
    this.due.delete(stream);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.due.clear();
  }

  private tick(): void {
    this.timer = undefined;
    const now = Date.now();
    this.lastTickAt = now;
    // Streams marked while this tick flushes wait for the next one.
    const due = this.due;
    this.due = new Set();
    for (const stream of due) stream.flush(now);
  }
}
