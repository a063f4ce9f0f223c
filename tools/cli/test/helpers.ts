import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NatsUsers } from '@acefleet/contracts';
import type { NatsServer } from '@acefleet/testkit';

export { acefleet, cliJson as json, type CliRun } from '@acefleet/testkit';

/** A directory laid out like a repo after `npm start`: `.run/operator.nats-url` (0600) for `nats`. */
export async function operatorDir(nats: NatsServer): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'acefleet-cli-'));
  const { user, password } = nats.credentials(NatsUsers.operator);
  await mkdir(path.join(dir, '.run'));
  await writeFile(
    path.join(dir, '.run/operator.nats-url'),
    `nats://${user}:${password}@127.0.0.1:${nats.port}\n`,
    {
      mode: 0o600,
    },
  );
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Lines of `text` wider than `width` columns. */
export function wideLines(text: string, width = 80): string[] {
  return text.split('\n').filter((l) => [...l].length > width);
}
