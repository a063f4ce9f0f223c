import test from 'ava';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLogger } from '@acefleet/platform';
import { openDatabase, type Db } from '../src/db.ts';
import { HistoryStore } from '../src/history.ts';
import { Retention } from '../src/retention.ts';

// Issue 21: stats' SQLite grew without a retention rule (sessions were kept forever) and never gave space back.

const DAY_MS = 24 * 3600_000;
const log = createLogger('retention-test', 'silent');

function addSession(db: Db, id: string, startedAt: Date, endedAt: Date | null): void {
  db.prepare(
    `INSERT INTO sessions (stream_id, content_kind, content_value, engine_id, proxy_id, started_at, ended_at)
     VALUES (?, 'id', ?, 'e1', 'edge-proxy.run', ?, ?)`,
  ).run(id, 'ab'.repeat(20), startedAt.toISOString(), endedAt?.toISOString() ?? null);
}

async function tempDb(t: { teardown(fn: () => unknown): void }): Promise<{ db: Db; file: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'acefleet-retention-'));
  const file = path.join(dir, 'stats.db');
  const db = openDatabase(file);
  t.teardown(async () => {
    db.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { db, file };
}

const opts = {
  sampleRetentionMs: DAY_MS,
  eventRetentionMs: 30 * DAY_MS,
  retentionDays: 90,
  compactIntervalMs: 3600_000,
};

test('stats retention - ended sessions past STATS_RETENTION_DAYS go, open and recent ones stay', async (t) => {
  const { db } = await tempDb(t);
  const now = Date.now();
  const ago = (days: number) => new Date(now - days * DAY_MS);
  addSession(db, 'old-ended', ago(100), ago(99));
  addSession(db, 'old-open', ago(100), null);
  addSession(db, 'recent', ago(10), ago(9));
  const retention = new Retention(db, new HistoryStore(db), opts, log);
  const gone = retention.run(now);
  t.is(gone.sessions, 1);
  const left = db.prepare('SELECT stream_id FROM sessions ORDER BY stream_id').pluck().all();
  t.deepEqual(left, ['old-open', 'recent']);
});

test('stats retention - compaction gives the space of deleted rows back to the disk', async (t) => {
  const { db, file } = await tempDb(t);
  const now = Date.now();
  const insert = db.transaction(() => {
    for (let i = 0; i < 20_000; i++)
      addSession(db, `s-${i}`, new Date(now - 200 * DAY_MS), new Date(now - 199 * DAY_MS));
  });
  insert();
  db.pragma('wal_checkpoint(TRUNCATE)');
  const full = (await stat(file)).size;
  const retention = new Retention(db, new HistoryStore(db), { ...opts, compactIntervalMs: 1000 }, log);
  t.is(retention.run(Date.now() + 2000).sessions, 20_000);
  const after = (await stat(file)).size;
  t.true(after < full / 4, `${full} bytes before, ${after} after`);
  t.is((await stat(`${file}-wal`)).size, 0, 'the WAL is checkpointed to nothing');
});
