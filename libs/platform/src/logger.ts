import { pino, type Logger } from 'pino';
import { redactCredentials } from '@acefleet/contracts';

export type { Logger };

/** Fields that hold a secret, wherever they sit in a logged object (top level or one level down). */
const SECRET_FIELDS = [
  'apiKey',
  'natsPassword',
  'gluetunApiKey',
  'password',
  'token',
  'authorization',
  'cookie',
  'headers.authorization',
  'headers.cookie',
  'headers["x-api-key"]',
];

/**
 * One root logger per process; modules take children of it. Secret fields are redacted by name, and every
 * line passes through redactCredentials, so a URL with a password in an error's message (or its cause's)
 * never reaches the log.
 */
export function createLogger(service: string, level: string): Logger {
  return pino({
    name: service,
    level,
    redact: SECRET_FIELDS.flatMap((field) => [field, `*.${field}`]),
    hooks: { streamWrite: redactCredentials },
    base: { service },
  });
}
