import { pino, type Logger } from 'pino';
import { redactCredentials } from '@acefleet/contracts';
import { WarningFolder } from './warning-folder.ts';

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

/** pino's number for `warn`: the one level whose repeats are folded. */
const WARN = 40;

/**
 * One root logger per process; modules take children of it. Secret fields are redacted by name, and every
 * line passes through redactCredentials, so a URL with a password in an error's message (or its cause's)
 * never reaches the log. Identical warnings within `repeatWindowMs` are folded into one line and a count
 * (WarningFolder), so a warning that repeats for months cannot fill a disk; errors are always written.
 */
export function createLogger(service: string, level: string, repeatWindowMs = 60_000): Logger {
  const folder = new WarningFolder(repeatWindowMs);
  return pino({
    name: service,
    level,
    redact: SECRET_FIELDS.flatMap((field) => [field, `*.${field}`]),
    hooks: {
      streamWrite: redactCredentials,
      logMethod(args, write, levelNumber) {
        if (levelNumber !== WARN || folder.admit(this, write, args)) {
          write.apply(this, args);
        }
      },
    },
    base: { service },
  });
}
