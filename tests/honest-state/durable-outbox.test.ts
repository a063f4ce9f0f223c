import test from 'ava';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ServiceNames } from '@acefleet/contracts';
import { startStack, waitFor } from '@acefleet/testkit';

// Issue 21: only the proxy had a durable outbox; engine-manager's, health-monitor's and stats' events waited in
// memory while NATS was away, and a restart lost them. With OUTBOX_DIR each keeps its outbox on disk, in the
// file the shared outbox replays after a restart (libs/platform outbox-file.ts; the replay itself is pinned by
// tests/e2e/nothing-lost.test.ts for the proxy).

test('outbox - engine-manager, health-monitor and stats keep their events in a durable outbox', async (t) => {
  t.timeout(120_000);
  const dir = await mkdtemp(path.join(tmpdir(), 'acefleet-outboxes-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const outbox = (name: string) => ({ OUTBOX_DIR: path.join(dir, name) });
  const stack = await startStack({
    services: ['manager', 'monitor', 'stats'],
    env: { manager: outbox('manager'), monitor: outbox('monitor'), stats: outbox('stats') },
  });
  t.teardown(() => stack.stop());
  const expected = [
    ['manager', ServiceNames.engineManager, stack.services.manager!],
    ['monitor', ServiceNames.healthMonitor, stack.services.monitor!],
    ['stats', ServiceNames.stats, stack.services.stats!],
  ] as const;
  for (const [sub, name, proc] of expected) {
    const file = `${name}.${proc.child.pid}.jsonl`;
    await waitFor(
      async () => (await readdir(path.join(dir, sub)).catch((): string[] => [])).includes(file),
      30_000,
    );
    t.pass(`${sub}: ${file}`);
  }
});
