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

/**
 * Where every line goes: process.stdout as a Node stream. pino's default destination (sonic-boom, synchronous)
 * loops forever on EPIPE: a service whose reader died (npm start's supervisor, killed) would hang at its next
 * line, its TERM handler never run. A broken stdout is a lost log, never a stuck or dead service.
 */
function stdoutDestination(): NodeJS.WritableStream {
  if (process.stdout.listenerCount('error') === 0) {
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      // EPIPE: nobody reads our output any more. Anything else is as little worth dying for.
      if (err.code !== 'EPIPE') process.stderr.write(`stdout: ${err.message}\n`);
    });
  }
  return process.stdout;
}

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
  return pino(
    {
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
    },
    stdoutDestination(),
  );
}
