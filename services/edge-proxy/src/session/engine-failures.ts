import type { EndReason } from '@acefleet/contracts';
import type { EngineFailure } from '../engines/engine-source.ts';

/**
 * How long an engine that failed a stream stays excluded for it. Long enough that a failover never goes back
 * to the engine it just left; not forever, so a stream that lived through many faults does not run out of
 * engines (a drain found none left to move to, in the chaos run).
 */
export const FAILURE_MEMORY_MS = 120_000;

/**
 * The engines that failed one stream (TS or HLS): not claimed again for it for FAILURE_MEMORY_MS, the latest
 * failure is told to the manager so it places the next attempt elsewhere, and each failure is reported to
 * the proxy-wide cool-down (`report`) so other streams avoid the engine too.
 */
export class EngineFailures {
  private readonly failedAt = new Map<string, number>();
  private lastFailure: EngineFailure | undefined;

  constructor(
    private readonly report: (failure: EngineFailure) => void,
    private readonly now: () => number = Date.now,
  ) {}

  record(engineId: string, reason: EndReason): void {
    this.failedAt.set(engineId, this.now());
    this.lastFailure = { engineId, reason };
    this.report(this.lastFailure);
  }

  /** The engines that failed this stream within FAILURE_MEMORY_MS. */
  get excluded(): ReadonlySet<string> {
    const since = this.now() - FAILURE_MEMORY_MS;
    for (const [engineId, at] of this.failedAt) if (at < since) this.failedAt.delete(engineId);
    return new Set(this.failedAt.keys());
  }

  get last(): EngineFailure | undefined {
    return this.lastFailure;
  }
}
