import Database from 'better-sqlite3';

export type Db = Database.Database;

/**
 * Each step moves the schema one version forward (PRAGMA user_version), so a database written by an older
 * stats is upgraded in place and a new kind of history is one more step.
 */
const migrations: string[] = [
  `CREATE TABLE IF NOT EXISTS sessions (
     stream_id TEXT PRIMARY KEY, content_kind TEXT NOT NULL, content_value TEXT NOT NULL,
     engine_id TEXT NOT NULL, proxy_id TEXT NOT NULL, started_at TEXT NOT NULL,
     ended_at TEXT, reason TEXT, bytes_in INTEGER NOT NULL DEFAULT 0, bytes_out INTEGER NOT NULL DEFAULT 0,
     peak_clients INTEGER NOT NULL DEFAULT 0);
   CREATE INDEX IF NOT EXISTS sessions_started ON sessions(started_at);`,
  // Current viewers (from the optional stream.viewers event), newest report wins.
  `ALTER TABLE sessions ADD COLUMN viewers INTEGER;
   ALTER TABLE sessions ADD COLUMN viewers_at TEXT;
   CREATE INDEX sessions_open ON sessions(ended_at) WHERE ended_at IS NULL;`,
  // Every event but stats samples, keyed by its JetStream sequence: the events feed, engine lifecycle and
  // health changes, stale / starved streams, service presence. New event kinds need no new table.
  `CREATE TABLE events (
     seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, engine_id TEXT, stream_id TEXT, at TEXT NOT NULL,
     data TEXT NOT NULL);
   CREATE INDEX events_kind ON events(kind, seq);
   CREATE INDEX events_engine ON events(engine_id, seq) WHERE engine_id IS NOT NULL;
   CREATE INDEX events_stream ON events(stream_id, seq) WHERE stream_id IS NOT NULL;
   CREATE INDEX events_at ON events(at);`,
  // Per-stream stat samples, kept for a bounded time.
  `CREATE TABLE stream_samples (
     stream_id TEXT NOT NULL, at TEXT NOT NULL, status TEXT NOT NULL, peers INTEGER NOT NULL,
     speed_down REAL NOT NULL, speed_up REAL NOT NULL, downloaded INTEGER NOT NULL, uploaded INTEGER NOT NULL,
     PRIMARY KEY (stream_id, at)) WITHOUT ROWID;
   CREATE INDEX stream_samples_at ON stream_samples(at);`,
  // Moves to another engine (stream.moved): how many, and when the newest was (it wins, once).
  `ALTER TABLE sessions ADD COLUMN moves INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE sessions ADD COLUMN moved_at TEXT;`,
  // Player sessions (player.started / player.ended): who (token name or address, user agent) watches which
  // stream, since when, how many bytes.
  `CREATE TABLE players (
     player_id TEXT PRIMARY KEY, stream_id TEXT NOT NULL, proxy_id TEXT NOT NULL, kind TEXT NOT NULL,
     content_kind TEXT NOT NULL, content_value TEXT NOT NULL, token TEXT, address TEXT NOT NULL,
     user_agent TEXT NOT NULL, started_at TEXT NOT NULL, ended_at TEXT, bytes_out INTEGER NOT NULL DEFAULT 0);
   CREATE INDEX players_started ON players(started_at);
   CREATE INDEX players_stream ON players(stream_id);
   CREATE INDEX players_open ON players(ended_at) WHERE ended_at IS NULL;`,
  // The most viewers a channel had at once on a UTC day, summed over every proxy that played it (one stream
  // per proxy): a session's own peak_clients counts one proxy only.
  `CREATE TABLE channel_peaks (
     content_kind TEXT NOT NULL, content_value TEXT NOT NULL, day TEXT NOT NULL, peak INTEGER NOT NULL,
     PRIMARY KEY (content_kind, content_value, day)) WITHOUT ROWID;`,
];

/**
 * `busyTimeoutMs` bounds how long a write waits for a lock held by another connection (a backup, the
 * sqlite3 shell); better-sqlite3 waits synchronously, so a long wait would stall the whole process.
 */
export function openDatabase(path: string, busyTimeoutMs = 500): Db {
  const db = new Database(path, { timeout: busyTimeoutMs });
  db.pragma('journal_mode = WAL');
  const version = db.pragma('user_version', { simple: true }) as number;
  for (let v = version; v < migrations.length; v++) {
    db.transaction(() => {
      db.exec(migrations[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return db;
}
