import type { EndReason } from '@acefleet/contracts';
import type { EngineFailure } from '../engines/engine-source.ts';

/**
 * The engines that failed one stream (TS or HLS): never claimed again for it, the latest failure is told to
 * the manager so it places the next attempt elsewhere, and each failure is reported to the proxy-wide
 * cool-down (`report`) so other streams avoid the engine too.
 */
export class EngineFailures {
  private readonly failed = new Set<string>();
  private lastFailure: EngineFailure | undefined;

  constructor(private readonly report: (failure: EngineFailure) => void) {}

  record(engineId: string, reason: EndReason): void {
    this.failed.add(engineId);
    this.lastFailure = { engineId, reason };
    this.report(this.lastFailure);
  }

  get excluded(): ReadonlySet<string> {
    return this.failed;
  }

  get last(): EngineFailure | undefined {
    return this.lastFailure;
  }
}
