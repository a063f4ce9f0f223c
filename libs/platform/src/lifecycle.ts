import type { Logger } from './logger.ts';

/** Is a process with this pid running (EPERM: it exists, but belongs to another user)? */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A second signal within this long of the first is the same event, not a request to exit at once. */
const REPEAT_GRACE_MS = 2000;

export type ShutdownStep = { name: string; run: () => unknown };

/**
 * Trap SIGINT/SIGTERM and run the steps in order (stop taking work, drain NATS, close servers), each
 * bounded so one stuck step cannot keep the process alive. A second signal, 2 s or more after the first,
 * exits at once.
 */
export function onShutdown(log: Logger, steps: ShutdownStep[], stepTimeoutMs = 10_000): () => Promise<void> {
  let running: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    running ??= (async () => {
      for (const step of steps) {
        const timer = new Promise((resolve) => setTimeout(resolve, stepTimeoutMs).unref());
        try {
          await Promise.race([Promise.resolve().then(step.run), timer]);
        } catch (err) {
          log.warn({ err, step: step.name }, 'shutdown step failed');
        }
      }
      log.info('stopped');
    })();
    return running;
  };
  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (running) {
      // One death can signal twice within milliseconds (seen: the parent-death signal of npm start's supervisor,
      // twice); only a later signal is someone insisting.
      if (Date.now() - firstSignalAt < REPEAT_GRACE_MS) return;
      process.exit(1);
    }
    firstSignalAt = Date.now();
    log.info({ signal }, 'shutting down');
    void shutdown().then(() => process.exit(0));
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  return shutdown;
}
