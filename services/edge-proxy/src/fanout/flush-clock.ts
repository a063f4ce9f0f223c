/** Something with bytes waiting to be written to its players. */
export interface Flushable {
  /**
   * Write to the players, asking `timeUp` every few players whether the turn is spent; if it is, stop and
   * return false: the next call goes on where this one stopped. True once every player is served.
   */
  flush(now: number, timeUp: () => boolean): boolean;
}

/** What the clock needs of the runtime: `eventLoopTimer` in the proxy, a scripted one in unit tests. */
export interface FlushTimer {
  /** Milliseconds, on the same clock as the watchdog's (a player's stall is timed with it). */
  now(): number;
  /** Run `fn` in `ms`; returns its cancel. */
  after(ms: number, fn: () => void): () => void;
  /** Run `fn` on the next turn of the event loop, after the I/O that is ready by then; returns its cancel. */
  nextTurn(fn: () => void): () => void;
}

export const eventLoopTimer: FlushTimer = {
  now: () => Date.now(),
  after: (ms, fn) => {
    const timeout = setTimeout(fn, ms);
    return () => clearTimeout(timeout);
  },
  nextTurn: (fn) => {
    const immediate = setImmediate(fn);
    return () => clearImmediate(immediate);
  },
};

/**
 * The longest one turn of flushing holds the event loop. A window's writes to every player of every stream
 * can take far longer under load (hundreds of streams, or thousands of players of one); in turns of this
 * length, upstream reads and new players wait at most one turn instead of the whole window's writes.
 */
export const FLUSH_SLICE_MS = 10;

/**
 * How long arriving bytes may wait to be written, so each player gets fewer, larger writes: 1 ms per 10
 * players the proxy serves, from 5 ms up to `maxMs`. A few players get bytes almost as they arrive; a
 * thousand share the cost of a write syscall per player per 100 ms instead of per engine chunk.
 */
export function flushDelayMs(totalClients: number, maxMs: number): number {
  return Math.min(maxMs, Math.max(5, Math.round(totalClients / 10)));
}

/** Stands for the pending cancel while a turn runs, so a mark made meanwhile schedules nothing. */
const SERVING = (): void => {};

/**
 * One flush clock for every stream of the proxy: a stream with new bytes marks itself due, and one timer
 * starts a round that flushes every due stream once, in the order they were marked. The round runs in
 * turns of at most `sliceMs` (see FLUSH_SLICE_MS), yielding to I/O between them, so the total work is the
 * same but no turn blocks the proxy for long. A turn ends in the middle of a stream whose players outlast
 * it: the next turn finishes that stream before the ones after it. A stream marked after its turn began
 * waits for the next round, one window after this one began (at once when the round took longer): the
 * players it already served this round lack the new bytes. With nothing due, no timer runs.
 */
export class FlushClock {
  /** Marked for the next round, in order. */
  private due = new Set<Flushable>();
  /** The current round's streams that have not been flushed to the end yet, in order. */
  private round = new Set<Flushable>();
  /** The first of `round` once its flush has begun (it may take several turns). */
  private flushing: Flushable | undefined;
  private roundStartedAt = -Infinity;
  /** Cancels the scheduled round or turn; `SERVING` during a turn. */
  private pending: (() => void) | undefined;

  constructor(
    private readonly delayMs: () => number,
    private readonly timer: FlushTimer = eventLoopTimer,
    private readonly sliceMs = FLUSH_SLICE_MS,
  ) {}

  mark(stream: Flushable): void {
    // Still waiting for its turn in this round: that flush writes the new bytes too.
    if (this.round.has(stream) && stream !== this.flushing) return;
    this.due.add(stream);
    if (!this.pending) this.scheduleRound();
  }

  /** The stream has gone: never flush it again. */
  forget(stream: Flushable): void {
    this.due.delete(stream);
    this.round.delete(stream);
    if (this.flushing === stream) this.flushing = undefined;
  }

  stop(): void {
    this.pending?.();
    this.pending = undefined;
    this.due.clear();
    this.round.clear();
    this.flushing = undefined;
  }

  private scheduleRound(): void {
    const wait = this.roundStartedAt + this.delayMs() - this.timer.now();
    this.pending = this.timer.after(Math.max(0, wait), () => {
      this.roundStartedAt = this.timer.now();
      this.round = this.due;
      this.due = new Set();
      this.serveTurn();
    });
  }

  /** Flush the round's streams in order until the slice is spent; the rest (of one, too) wait a turn. */
  private serveTurn(): void {
    this.pending = SERVING;
    const until = this.timer.now() + this.sliceMs;
    const timeUp = (): boolean => this.timer.now() >= until;
    for (const stream of this.round) {
      this.flushing = stream;
      if (!stream.flush(this.timer.now(), timeUp)) break;
      this.flushing = undefined;
      this.round.delete(stream);
      if (timeUp()) break;
    }
    this.pending = undefined;
    if (this.round.size > 0) this.pending = this.timer.nextTurn(() => this.serveTurn());
    else if (this.due.size > 0) this.scheduleRound();
  }
}
