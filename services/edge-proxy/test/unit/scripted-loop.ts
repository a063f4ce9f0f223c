import type { FlushTimer } from '../../src/fanout/flush-clock.ts';

/**
 * The event loop as a script: time moves only when work costs some (the caller adds to `time`) or a timeout
 * is due, and every `nextTurn` callback counts as one turn (where the proxy would read I/O before it:
 * `beforeTurn`).
 */
export class ScriptedLoop implements FlushTimer {
  time = 0;
  turns = 0;
  /** The longest any one callback held the loop. */
  longestTurnMs = 0;
  beforeTurn: () => void = () => {};
  private timeouts: { at: number; fn: () => void }[] = [];
  private immediates: (() => void)[] = [];

  now(): number {
    return this.time;
  }

  after(ms: number, fn: () => void): () => void {
    const entry = { at: this.time + ms, fn };
    this.timeouts.push(entry);
    return () => void (this.timeouts = this.timeouts.filter((e) => e !== entry));
  }

  nextTurn(fn: () => void): () => void {
    this.immediates.push(fn);
    return () => void (this.immediates = this.immediates.filter((f) => f !== fn));
  }

  /** Run what is scheduled, in event-loop order, until nothing is or `untilMs` is reached. */
  run(untilMs = Infinity): void {
    for (;;) {
      const immediate = this.immediates.shift();
      if (immediate) {
        this.beforeTurn();
        this.turns++;
        this.timed(immediate);
        continue;
      }
      this.timeouts.sort((a, b) => a.at - b.at);
      const next = this.timeouts[0];
      if (!next || next.at > untilMs) return;
      this.timeouts.shift();
      this.time = Math.max(this.time, next.at);
      this.timed(next.fn);
    }
  }

  private timed(fn: () => void): void {
    const from = this.time;
    fn();
    this.longestTurnMs = Math.max(this.longestTurnMs, this.time - from);
  }
}
