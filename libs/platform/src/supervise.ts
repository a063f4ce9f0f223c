import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from './logger.ts';

/** A background task started by `supervise`: stop() ends it and resolves once it has ended. */
export interface Supervised {
  stop(): Promise<void>;
}

export interface SuperviseOptions {
  /** Wait before the first restart; doubled after each failure up to maxBackoffMs. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * Own a background loop (a `for await` over a subscription, a retry loop): run it, and when it throws, log
 * the error and run it again after a growing pause (reset once a run lasted longer than the longest pause).
 * A loop that returns has finished its work. stop() aborts `signal`, which the loop must honour (close its
 * subscription or iterator on abort), and waits for the loop to end. Each run has a signal of its own, so
 * what a run hangs on it (a listener that closes its subscription) goes with the run.
 */
export function supervise(
  name: string,
  log: Logger,
  loop: (signal: AbortSignal) => Promise<void>,
  opts: SuperviseOptions = {},
): Supervised {
  const minBackoffMs = opts.minBackoffMs ?? 500;
  const maxBackoffMs = opts.maxBackoffMs ?? 30_000;
  const abort = new AbortController();
  const { signal } = abort;
  const running = (async () => {
    let backoffMs = minBackoffMs;
    while (!signal.aborted) {
      const startedAt = Date.now();
      try {
        await runOnce(loop, signal);
        return;
      } catch (err) {
        if (signal.aborted) return;
        if (Date.now() - startedAt > maxBackoffMs) backoffMs = minBackoffMs;
        log.error({ err, task: name, retryInMs: backoffMs }, 'background task failed; restarting');
        // An abort during the pause is the stop we are waiting for.
        await sleep(backoffMs, undefined, { signal }).catch(() => undefined);
        backoffMs = Math.min(backoffMs * 2, maxBackoffMs);
      }
    }
  })();
  return {
    stop: async () => {
      abort.abort();
      await running;
    },
  };
}

/**
 * One run of `loop`, with a signal that `stopped` aborts while the run lasts. Handing every run the task's own
 * signal kept each ended run's abort listeners, and the closed subscription each one holds, for the task's
 * life: the health monitor kept every consumer a nats-server restart had reset, about 5 kB each.
 */
async function runOnce(loop: (signal: AbortSignal) => Promise<void>, stopped: AbortSignal): Promise<void> {
  const run = new AbortController();
  const stop = (): void => run.abort(stopped.reason);
  stopped.addEventListener('abort', stop, { once: true });
  try {
    await loop(run.signal);
  } finally {
    stopped.removeEventListener('abort', stop);
  }
}
