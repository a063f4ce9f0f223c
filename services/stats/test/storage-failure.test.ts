import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { startStack, unhandledRejections, waitFor } from '@acefleet/testkit';
import { publishStreamEvent, streamStarted } from '@acefleet/testkit';

interface Health {
  ok: boolean;
  status: string;
  reasons: string[];
}

test('stats - with its database locked by another connection, stays up and degraded, then stores every event published meanwhile once the lock is gone', async (t) => {
  t.timeout(120_000);
  const dir = await mkdtemp(path.join(tmpdir(), 'acefleet-stats-lock-'));
  const dbPath = path.join(dir, 'stats.db');
  const stack = await startStack({
    services: ['stats'],
    env: { stats: { DB_PATH: dbPath, PRUNE_INTERVAL_MS: '200', ACK_WAIT_MS: '1000' } },
  });
  const nc = await stack.nats.connect();
  const lock = new Database(dbPath);
  try {
    const stats = stack.services.stats!;
    const health = async (): Promise<Health> => (await (await fetch(`${stats.url}/health`)).json()) as Health;
    const stored = async (): Promise<number> =>
      ((await (await fetch(`${stats.url}/api/totals`)).json()) as { sessionsStarted: number })
        .sessionsStarted;

    for (let i = 0; i < 5; i++) await publishStreamEvent(nc, streamStarted(`before-${i}`));
    await waitFor(async () => (await stored()) === 5, 15_000);

    lock.exec('BEGIN EXCLUSIVE');
    const degraded = await waitFor(async () => {
      const h = await health();
      return h.status === 'degraded' ? h : false;
    }, 15_000);
    t.true(degraded.ok, 'degraded still answers ok:true');
    t.true(
      degraded.reasons.some((r) => r.startsWith('database: ')),
      degraded.reasons.join(', '),
    );
    for (let i = 0; i < 10; i++) await publishStreamEvent(nc, streamStarted(`during-${i}`));
    // Readers are not blocked (WAL): the API keeps answering from what was stored.
    t.is(await stored(), 5);
    t.is((await health()).status, 'degraded');

    lock.exec('ROLLBACK');
    await waitFor(async () => (await health()).status === 'ok', 30_000);
    await waitFor(async () => (await stored()) === 15, 30_000);
    t.is(stats.child.exitCode, null, 'stats never exited');
    t.true(stats.output().includes('database write failed'));
    t.deepEqual(unhandledRejections(stats.output()), []);
  } finally {
    lock.close();
    await nc.close();
    await stack.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
