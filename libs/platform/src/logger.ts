import { pino, type Logger } from 'pino';

export type { Logger };

/** One root logger per process; modules take children of it. */
export function createLogger(service: string, level: string): Logger {
  return pino({
    name: service,
    level,
    redact: ['*.password', '*.natsPassword', '*.token', 'headers.authorization'],
    base: { service },
  });
}
