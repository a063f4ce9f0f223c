/**
 * The churn of a month: players join and leave channels of a pool of 50, some channels popular, most rarely
 * watched. Each player reads its stream at the rate it comes and goes away after a while, as people do.
 */
export interface Viewer {
  channel: number;
  bytes: number;
  controller: AbortController;
  leavesAt: number;
}

export interface ViewerStats {
  joined: number;
  left: number;
  failedStarts: number;
  /** Failed starts by HTTP status (or `network`). */
  failures: Record<string, number>;
  bytes: number;
}

const contentOf = (channel: number): string => (channel.toString(16).padStart(2, '0') + 'ac').repeat(10);

/** A channel of the pool, popular ones (the first few) more often: roughly Zipf. */
function pickChannel(channels: number): number {
  const weights = Array.from({ length: channels }, (_, i) => 1 / (i + 1));
  let r = Math.random() * weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < channels; i++) {
    r -= weights[i]!;
    if (r <= 0) return i;
  }
  return channels - 1;
}

export class ViewerChurn {
  private readonly viewers = new Set<Viewer>();
  private timer: NodeJS.Timeout | undefined;
  readonly stats: ViewerStats = { joined: 0, left: 0, failedStarts: 0, failures: {}, bytes: 0 };

  constructor(
    private readonly proxyUrl: string,
    private readonly opts: { channels: number; players: number; stayMs: [number, number]; tickMs: number },
  ) {}

  start(): void {
    this.timer = setInterval(() => this.tick(), this.opts.tickMs);
  }

  get playing(): number {
    return this.viewers.size;
  }

  /** Everyone leaves. */
  stop(): void {
    clearInterval(this.timer);
    for (const v of this.viewers) this.leave(v);
  }

  private tick(): void {
    const now = Date.now();
    for (const v of this.viewers) if (v.leavesAt <= now) this.leave(v);
    // Joins come faster while the audience is below its size; a few a tick.
    const missing = this.opts.players - this.viewers.size;
    for (let i = 0; i < Math.min(3, missing); i++) this.join(now);
  }

  private join(now: number): void {
    const [min, max] = this.opts.stayMs;
    const viewer: Viewer = {
      channel: pickChannel(this.opts.channels),
      bytes: 0,
      controller: new AbortController(),
      leavesAt: now + min + Math.random() * (max - min),
    };
    this.viewers.add(viewer);
    this.stats.joined++;
    void this.watch(viewer);
  }

  private async watch(viewer: Viewer): Promise<void> {
    try {
      const res = await fetch(`${this.proxyUrl}/ace/getstream?id=${contentOf(viewer.channel)}`, {
        signal: viewer.controller.signal,
      });
      if (!res.ok || !res.body) {
        this.failed(String(res.status));
        await res.body?.cancel();
        return;
      }
      const reader = res.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        viewer.bytes += value.length;
        this.stats.bytes += value.length;
      }
    } catch {
      // Aborted when it leaves, or cut off by a fault: either way it is gone now.
      if (!viewer.controller.signal.aborted && viewer.bytes === 0) this.failed('network');
    } finally {
      if (this.viewers.delete(viewer)) this.stats.left++;
    }
  }

  private failed(why: string): void {
    this.stats.failedStarts++;
    this.stats.failures[why] = (this.stats.failures[why] ?? 0) + 1;
  }

  private leave(viewer: Viewer): void {
    viewer.controller.abort();
    if (this.viewers.delete(viewer)) this.stats.left++;
  }
}
