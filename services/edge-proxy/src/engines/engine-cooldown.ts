import type { EndReason } from '@acefleet/contracts';

/**
 * Engines this proxy keeps away from, whatever its cache of the engines bucket says: one that just failed
 * a stream here, for `cooldownMs`, and one health-monitor reported unhealthy, until it reports it healthy.
 * Without it, an engine that died while the engine manager was down stays `ready` in the cache (only the
 * manager updates records) and is chosen again for every new stream.
 */
export class EngineCooldown {
  /** When each recently failed engine may be chosen again (epoch ms). */
  private readonly failedUntil = new Map<string, number>();
  private readonly unhealthy = new Set<string>();

  constructor(
    private readonly cooldownMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * An engine failed one of our streams. Returns whether it now cools down: a content the network does
   * not have is no fault of the engine, and a cool-down of 0 turns the whole thing off.
   */
  failed(engineId: string, reason: EndReason): boolean {
    if (reason === 'content_unavailable' || this.cooldownMs <= 0) return false;
    this.failedUntil.set(engineId, this.now() + this.cooldownMs);
    return true;
  }

  /** health-monitor's verdict on an engine (an engine.health event). */
  healthVerdict(engineId: string, healthy: boolean): void {
    if (healthy) this.unhealthy.delete(engineId);
    else this.unhealthy.add(engineId);
  }

  /** `exclude` plus every engine to keep away from now. */
  excluding(exclude: ReadonlySet<string>): ReadonlySet<string> {
    const now = this.now();
    for (const [engineId, until] of this.failedUntil) if (until <= now) this.failedUntil.delete(engineId);
    if (this.failedUntil.size === 0 && this.unhealthy.size === 0) return exclude;
    return new Set([...exclude, ...this.failedUntil.keys(), ...this.unhealthy]);
  }
}
