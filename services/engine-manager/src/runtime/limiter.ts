import { AcefleetError } from '@acefleet/contracts';
import type { Clock } from './breaker.ts';

export interface ProvisionLimits {
  /** Containers being started at once. */
  concurrency: number;
  /** Starts allowed per minute (a token bucket refilled continuously)... */
  ratePerMinute: number;
  /** ...with this many allowed back to back. */
  burst: number;
}

/**
 * Bounds provisioning: at most `concurrency` starts at once (others wait their turn) and at most
 * `ratePerMinute` on average; a start beyond the rate is refused with the time until the next token.
 */
export class ProvisionLimiter {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private tokens: number;
  private refilledAt: number;

  constructor(
    private readonly limits: ProvisionLimits,
    private readonly now: Clock = Date.now,
  ) {
    this.tokens = limits.burst;
    this.refilledAt = now();
  }

  /** Take a rate token now or throw capacity_exhausted with a retry hint. */
  takeToken(): void {
    const now = this.now();
    const perMs = this.limits.ratePerMinute / 60_000;
    this.tokens = Math.min(this.limits.burst, this.tokens + (now - this.refilledAt) * perMs);
    this.refilledAt = now;
    if (this.tokens < 1) {
      throw new AcefleetError('capacity_exhausted', 'engine provisioning rate limit reached', {
        retryAfterMs: Math.ceil((1 - this.tokens) / perMs),
      });
    }
    this.tokens -= 1;
  }

  /** Run one start inside the concurrency limit. */
  async run<T>(start: () => Promise<T>): Promise<T> {
    if (this.running >= this.limits.concurrency) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await start();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
