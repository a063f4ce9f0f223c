import { createHash } from 'node:crypto';
import path from 'node:path';

/**
 * The default fleet id (label io.acefleet.fleet): one per state directory, so two stacks sharing a Docker
 * daemon never touch each other's engines, even with equal host ids. Relative paths resolve from the cwd.
 */
export function fleetIdOf(stateDir: string): string {
  return `fleet-${createHash('sha256').update(path.resolve(stateDir)).digest('hex').slice(0, 12)}`;
}
