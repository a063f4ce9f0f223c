import { AcefleetError, type BreakerState } from '@acefleet/contracts';

export type Clock = () => number;

export interface BreakerOptions {
  /** Consecutive failures that open the breaker. */
  failureThreshold: number;
  /** How long it stays open before one trial call is let through (half-open). */
  recoveryMs: number;
}

/**
 * A circuit breaker around Docker: after `failureThreshold` consecutive failures every call is refused at
 * once (no provisioning storm against a dead daemon) until `recoveryMs` has passed; then a single trial is
 * let through, and its outcome closes the breaker or opens it for another period.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt: number | undefined;
  private trialInFlight = false;
  private lastError: string | undefined;

  constructor(
    private readonly opts: BreakerOptions,
    private readonly now: Clock = Date.now,
    private readonly onChange: (state: BreakerState) => void = () => {},
  ) {}

  get state(): BreakerState {
    if (this.openedAt === undefined) return 'closed';
    return this.now() - this.openedAt >= this.opts.recoveryMs ? 'half_open' : 'open';
  }

  /** Milliseconds until a trial call is allowed (0 when calls go through now). */
  retryAfterMs(): number {
    if (this.openedAt === undefined) return 0;
    return Math.max(0, this.openedAt + this.opts.recoveryMs - this.now());
  }

  snapshot(): {
    state: BreakerState;
    consecutiveFailures: number;
    retryAfterMs?: number;
    lastError?: string;
  } {
    const state = this.state;
    return {
      state,
      consecutiveFailures: this.failures,
      ...(state === 'closed' ? {} : { retryAfterMs: this.retryAfterMs() }),
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
    };
  }

  /** Run `call` through the breaker: refused with runtime_unavailable + retryAfterMs while open. */
  async run<T>(call: () => Promise<T>): Promise<T> {
    const state = this.state;
    if (state === 'open' || (state === 'half_open' && this.trialInFlight)) {
      throw new AcefleetError(
        'runtime_unavailable',
        `docker circuit breaker is open after ${this.failures} failures (${this.lastError ?? 'unknown'})`,
        { retryAfterMs: Math.max(1, this.retryAfterMs() || this.opts.recoveryMs) },
      );
    }
    const trial = state === 'half_open';
    if (trial) this.trialInFlight = true;
    try {
      const result = await call();
      this.succeeded();
      return result;
    } catch (err) {
      this.failed(err);
      throw err;
    } finally {
      if (trial) this.trialInFlight = false;
    }
  }

  private succeeded(): void {
    const was = this.state;
    this.failures = 0;
    this.openedAt = undefined;
    this.lastError = undefined;
    if (was !== 'closed') this.onChange('closed');
  }

  private failed(err: unknown): void {
    this.failures++;
    this.lastError = err instanceof Error ? err.message.slice(0, 200) : String(err);
    if (this.openedAt !== undefined || this.failures >= this.opts.failureThreshold) {
      this.openedAt = this.now();
      this.onChange('open');
    }
  }
}
