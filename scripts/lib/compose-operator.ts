/**
 * The operator's NATS URL for a compose project, in `.run/compose-<project>.operator.nats-url` (0600), so that
 * `npx acefleet --creds <file>` reaches the stack's NATS on the port compose published on 127.0.0.1.
 */
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { NatsUsers } from '@acefleet/contracts';
import { composeOutput, resolvedSetting, root } from './compose.ts';

/** The file of the project `env` names (composeEnv()), relative to the repository root, as printed. */
const operatorFileOf = (env: NodeJS.ProcessEnv): string =>
  path.join('.run', `compose-${env.COMPOSE_PROJECT_NAME ?? 'acefleet'}.operator.nats-url`);

/**
 * Writes the file for the running stack: the host address from `docker-compose port` (what is published,
 * whatever set NATS_PORT), the password as the resolved compose file passes it to NATS. Returns its path.
 */
export function writeOperatorFile(config: string, env: NodeJS.ProcessEnv): string {
  const address = composeOutput(['port', 'nats', '4222'], env).trim();
  const password = encodeURIComponent(resolvedSetting(config, 'NATS_PASSWORD_OPERATOR'));
  const file = operatorFileOf(env);
  mkdirSync(path.join(root, '.run'), { recursive: true });
  writeFileSync(path.join(root, file), `nats://${NatsUsers.operator}:${password}@${address}\n`, {
    mode: 0o600,
  });
  chmodSync(path.join(root, file), 0o600);
  return file;
}

/** Removes the file with the stack it pointed at. */
export function removeOperatorFile(env: NodeJS.ProcessEnv): void {
  rmSync(path.join(root, operatorFileOf(env)), { force: true });
}
