import { Player } from '@acefleet/testkit';

/** A connection that ended on its own, or received nothing for this long, counts as a dropped player. */
export const DROP_SILENCE_MS = 15_000;
const RETRY_MS = 500;
const SAMPLE_MS = 100;

/** What the audience saw since the window opened. */
export interface WindowReport {
  /** Viewers whose connection ended or went silent for DROP_SILENCE_MS at least once. */
  dropped: number;
  /** The longest time any viewer went without a byte (a gap still open counts up to now). */
  maxGapMs: number;
  /** From the window's start to the end of the last gap longer than `gapMs` (0: no such gap). */
  recoveryMs: number;
}

/**
 * One player that behaves like a real one: it plays `url()`, and when its connection ends (error, end of body,
 * non-200) or stays silent for DROP_SILENCE_MS, it reconnects every RETRY_MS. Byte arrival is sampled every
 * SAMPLE_MS, so gaps are measured to that resolution.
 */
class Viewer {
  private player: Player | undefined;
  private lastBytes = 0;
  lastByteAt = performance.now();
  dropped = false;
  maxGapMs = 0;
  /** When the latest gap longer than the window's threshold ended. */
  lastLongGapEnd = 0;
  private stopped = false;
  private readonly loop: Promise<void>;

  constructor(
    private readonly url: () => string,
    private readonly onGapEnd: (viewer: Viewer, gapMs: number, at: number) => void,
  ) {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const player = await Player.open(this.url(), 0).catch(() => undefined);
      if (player && player.status === 200) {
        this.player = player;
        this.lastBytes = 0;
        await player.closed;
        this.player = undefined;
        if (!this.stopped) this.dropped = true;
      } else {
        player?.close();
      }
      if (!this.stopped) await new Promise((r) => setTimeout(r, RETRY_MS));
    }
  }

  sample(now: number): void {
    const bytes = this.player?.bytes ?? this.lastBytes;
    if (bytes !== this.lastBytes && this.player) {
      this.onGapEnd(this, now - this.lastByteAt, now);
      this.lastByteAt = now;
      this.lastBytes = bytes;
    } else if (now - this.lastByteAt > DROP_SILENCE_MS && this.player) {
      // A player that waits this long gives up and reconnects, as a real one would.
      this.dropped = true;
      this.player.close();
    }
  }

  openGapMs(now: number): number {
    return now - this.lastByteAt;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.player?.close();
    await this.loop;
  }
}

/** S streams × P players through one proxy address; reports per window what the players went through. */
export class Audience {
  private readonly viewers: Viewer[] = [];
  private readonly sampler: NodeJS.Timeout;
  private windowAt = performance.now();

  constructor(
    url: (stream: number) => string,
    streams: number,
    playersPerStream: number,
    private readonly gapMs = 1000,
  ) {
    for (let s = 0; s < streams; s++) {
      for (let p = 0; p < playersPerStream; p++) {
        this.viewers.push(
          new Viewer(
            () => url(s),
            (v, gap, at) => this.gapEnded(v, gap, at),
          ),
        );
      }
    }
    this.sampler = setInterval(() => {
      const now = performance.now();
      for (const v of this.viewers) v.sample(now);
    }, SAMPLE_MS);
  }

  private gapEnded(viewer: Viewer, gap: number, at: number): void {
    if (at - gap < this.windowAt) gap = at - this.windowAt;
    viewer.maxGapMs = Math.max(viewer.maxGapMs, gap);
    if (gap > this.gapMs) viewer.lastLongGapEnd = at;
  }

  get size(): number {
    return this.viewers.length;
  }

  /** Every viewer received bytes within the last `withinMs`. */
  allReceiving(withinMs = 2000): boolean {
    const now = performance.now();
    return this.viewers.every((v) => now - v.lastByteAt < withinMs);
  }

  /** Start a new window: drops, gaps and recovery are counted from now. */
  openWindow(): void {
    this.windowAt = performance.now();
    for (const v of this.viewers) {
      v.dropped = false;
      v.maxGapMs = 0;
      v.lastLongGapEnd = 0;
    }
  }

  report(): WindowReport {
    const now = performance.now();
    const open = (v: Viewer): number => Math.min(v.openGapMs(now), now - this.windowAt);
    const lastEnd = Math.max(0, ...this.viewers.map((v) => v.lastLongGapEnd));
    return {
      dropped: this.viewers.filter((v) => v.dropped).length,
      maxGapMs: Math.round(Math.max(0, ...this.viewers.map((v) => Math.max(v.maxGapMs, open(v))))),
      recoveryMs: lastEnd === 0 ? 0 : Math.round(lastEnd - this.windowAt),
    };
  }

  async stop(): Promise<void> {
    clearInterval(this.sampler);
    await Promise.all(this.viewers.map((v) => v.stop()));
  }
}
