/** Gives back the slot a player holds (see admission.ts). */
export type Release = () => void;

interface Poller {
  lastSeen: number;
  release: Release;
}

/**
 * The HLS players of one stream. They only poll, so a player (address and user agent, or token) counts as
 * watching while it asked for a playlist or a segment within `windowMs`; it holds its admission slot as long.
 */
export class HlsViewers {
  private readonly pollers = new Map<string, Poller>();
  private peak = 0;
  requests = 0;
  bytesOut = 0;

  constructor(private readonly windowMs: number) {}

  get size(): number {
    return this.pollers.size;
  }

  get peakClients(): number {
    return this.peak;
  }

  /** A request of `viewer`; `admit` is asked only for a viewer not counted yet (and may throw). True if new. */
  touch(viewer: string, now: number, admit: () => Release): boolean {
    this.requests++;
    const known = this.pollers.get(viewer);
    if (known) {
      known.lastSeen = now;
      return false;
    }
    this.pollers.set(viewer, { lastSeen: now, release: admit() });
    this.peak = Math.max(this.peak, this.pollers.size);
    return true;
  }

  /** Forget the players that have not asked within the window; true when any went. */
  prune(now: number): boolean {
    let gone = false;
    for (const [viewer, poller] of this.pollers) {
      if (now - poller.lastSeen <= this.windowMs) continue;
      this.pollers.delete(viewer);
      poller.release();
      gone = true;
    }
    return gone;
  }

  /** The stream ended: every player's slot is given back. */
  clear(): void {
    for (const poller of this.pollers.values()) poller.release();
    this.pollers.clear();
  }
}
