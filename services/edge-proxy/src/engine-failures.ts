import type { EndReason } from '@acefleet/contracts';
import type { EngineFailure } from './engine-source.ts';

/**
 * The engines that failed one stream (TS or HLS): never claimed again for it, and the latest failure is told
 * to the manager so it places the next attempt elsewhere.
 */
export class EngineFailures {
  private readonly failed = new Set<string>();
  private lastFailure: EngineFailure | undefined;

  record(engineId: string, reason: EndReason): void {
    this.failed.add(engineId);
    this.lastFailure = { engineId, reason };
  }

  get excluded(): ReadonlySet<string> {
    return this.failed;
  }

  get last(): EngineFailure | undefined {
    return this.lastFailure;
  }
}
