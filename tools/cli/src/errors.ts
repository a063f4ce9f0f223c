import { AcefleetError, redactCredentials } from '@acefleet/contracts';

/** What the process exit code tells a script. */
export const ExitCodes = {
  ok: 0,
  /** The operation was refused or failed (unknown engine, no such stream, no service answered). */
  failed: 1,
  /** The command line was wrong. */
  usage: 2,
  /** NATS could not be reached, or it refused the login. */
  unreachable: 3,
} as const;
export type ExitCode = (typeof ExitCodes)[keyof typeof ExitCodes];

/** An error the CLI reports as one line on stderr, with the exit code it ends with. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    opts: { cause?: unknown } = {},
  ) {
    super(message, opts);
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(ExitCodes.usage, message);
  }
}

/** Any failure as the CLI reports it: catalogue errors keep their code, the rest become `failed`. */
export function asCliError(err: unknown): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof AcefleetError) return new CliError(ExitCodes.failed, `${err.message} (${err.code})`);
  const message = redactCredentials(err instanceof Error ? err.message : String(err));
  return new CliError(ExitCodes.failed, message.split('\n')[0] || 'failed', { cause: err });
}
