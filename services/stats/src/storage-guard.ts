import type { Logger } from '@acefleet/platform';

export interface StorageGuardOptions {
  /** How often the history is pruned while writes work. */
  pruneIntervalMs: number;
  /** How often writing is tried again (by pruning) while it fails. */
  retryMs: number;
}

/**
 * Owns "can stats write its database": it prunes the history on a timer, and a write that fails there or
 * while storing an event (database locked, disk full) pauses event consumption and marks stats degraded.
 * While failing it prunes more often as the probe; the first success resumes consuming (the durable
 * consumer redelivers what was not stored). Nothing here throws: a full disk is not a reason to exit.
 */
export class StorageGuard {
  private failure: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly prune: () => Record<string, number>,
    private readonly consuming: { pause(): void; resume(): void },
    private readonly opts: StorageGuardOptions,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** For /health: why stats is degraded, if it is. */
  problems(): string[] {
    return this.failure ? [`database: ${this.failure}`] : [];
  }

  /** A write failed: stop consuming until a probe write succeeds. */
  failed(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    if (!this.failure) {
      this.log.error({ err }, 'database write failed; event consumption paused until it works again');
      this.consuming.pause();
    }
    this.failure = message;
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), this.failure ? this.opts.retryMs : this.opts.pruneIntervalMs);
  }

  private tick(): void {
    try {
      const gone = this.prune();
      if (Object.values(gone).some((n) => n > 0)) this.log.debug(gone, 'pruned history');
      if (this.failure) {
        this.failure = undefined;
        this.log.info('database writable again; event consumption resumed');
        this.consuming.resume();
      }
      this.schedule();
    } catch (err) {
      this.failed(err);
    }
  }
}
