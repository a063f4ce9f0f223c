/**
 * docker-compose on deploy/compose.yml, as `npm run compose:up` and `compose:down` run it: the project is
 * COMPOSE_PROJECT_NAME (default `acefleet`; the file names the engines network after it), the rest of the
 * settings come from the environment and deploy/.env, as for any docker-compose call. ACEFLEET_VPN=1 lays
 * deploy/compose.vpn.yml (Gluetun, engines in its namespace) over it.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export const root = path.resolve(import.meta.dirname, '../..');
const files = ['deploy/compose.yml', ...(process.env.ACEFLEET_VPN === '1' ? ['deploy/compose.vpn.yml'] : [])];
const fileArgs = files.flatMap((f) => ['-f', path.join(root, f)]);

export const composeEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  COMPOSE_PROJECT_NAME: process.env.COMPOSE_PROJECT_NAME || 'acefleet',
});

/** Runs docker-compose with its output on ours. */
export function compose(args: string[], env = composeEnv()): void {
  execFileSync('docker-compose', [...fileArgs, ...args], {
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

/** docker-compose's output, for reading. */
export function composeOutput(args: string[], env = composeEnv()): string {
  return execFileSync('docker-compose', [...fileArgs, ...args], { env, encoding: 'utf8' });
}

/**
 * One setting as the resolved compose file has it (`docker-compose config`, defaults applied): the first
 * `key: value` line, so for keys that one service or build has (HOST_ID, ENGINE_PRESET, NODE_IMAGE).
 */
export function resolvedSetting(config: string, key: string): string {
  const value = new RegExp(`^\\s+${key}: ?(.*)$`, 'm').exec(config)?.[1]?.trim() ?? '';
  return value.replace(/^(['"])(.*)\1$/, '$2');
}

/** docker with its output on ours; false when it failed (for checks such as `image inspect`). */
export function docker(args: string[], quiet = false): boolean {
  try {
    execFileSync('docker', args, { stdio: quiet ? 'ignore' : ['ignore', 'inherit', 'inherit'] });
    return true;
  } catch {
    return false;
  }
}
