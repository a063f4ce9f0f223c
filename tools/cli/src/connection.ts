import { connect } from '@nats-io/transport-node';
import { AuthorizationError, type NatsConnection } from '@nats-io/nats-core';
import { natsAuthOptions } from '@acefleet/platform';
import { CliError, ExitCodes } from './errors.ts';
import type { NatsTarget } from './credentials.ts';

const CONNECT_TIMEOUT_MS = 3000;

/** Why a first connect failed, in words; never with the password (the target's server has none). */
function reason(err: unknown): string {
  const cause: unknown = err instanceof Error ? err.cause : undefined;
  const code = cause instanceof Error && 'code' in cause ? cause.code : undefined;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'unknown host';
  if (err instanceof Error && /timeout/i.test(err.message)) return 'timed out';
  return err instanceof Error ? err.message.split('\n')[0]! : 'failed';
}

/**
 * One connection for one command: no reconnecting (a CLI should fail fast), the operator's own reply inbox.
 * A refused login and an unreachable server both end the CLI with ExitCodes.unreachable.
 */
export async function connectTarget(target: NatsTarget): Promise<NatsConnection> {
  try {
    return await connect({
      servers: target.server,
      name: 'acefleet-cli',
      ...natsAuthOptions(target),
      timeout: CONNECT_TIMEOUT_MS,
      reconnect: false,
      waitOnFirstConnect: false,
    });
  } catch (err) {
    if (err instanceof AuthorizationError) {
      const who = target.user ? `as ${target.user}` : 'without credentials';
      throw new CliError(ExitCodes.unreachable, `NATS at ${target.server} refused the login ${who}`, {
        cause: err,
      });
    }
    throw new CliError(ExitCodes.unreachable, `cannot reach NATS at ${target.server}: ${reason(err)}`, {
      cause: err,
    });
  }
}
