import type { Logger } from './logger.ts';

export type ShutdownStep = { name: string; run: () => unknown };

/**
 * Trap SIGINT/SIGTERM and run the steps in order (stop taking work, drain NATS, close servers), each
 * bounded so one stuck step cannot keep the process alive. A second signal exits at once.
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
  const onSignal = (signal: NodeJS.Signals): void => {
    if (running) process.exit(1);
    log.info({ signal }, 'shutting down');
    void shutdown().then(() => process.exit(0));
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  return shutdown;
}
