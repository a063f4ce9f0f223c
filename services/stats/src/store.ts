import Database from 'better-sqlite3';
import type { StreamEnded, StreamStarted } from '@acefleet/contracts';

export interface SessionRow {
  streamId: string;
  contentKind: string;
  contentValue: string;
  engineId: string;
  proxyId: string;
  startedAt: string;
  endedAt: string | null;
  reason: string | null;
  bytesIn: number;
  bytesOut: number;
  peakClients: number;
}

export interface Totals {
  sessionsStarted: number;
  sessionsEnded: number;
  activeStreams: number;
  bytesOut: number;
  endedByReason: Record<string, number>;
}

const COLUMNS = `stream_id AS streamId, content_kind AS contentKind, content_value AS contentValue,
  engine_id AS engineId, proxy_id AS proxyId, started_at AS startedAt, ended_at AS endedAt, reason,
  bytes_in AS bytesIn, bytes_out AS bytesOut, peak_clients AS peakClients`;

/**
 * Sessions built from events. Every write is idempotent (keyed by stream id), so an event delivered twice
 * (redelivery after a crash before the ack) changes nothing the second time.
 */
export class StatsStore {
  private readonly db: Database.Database;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS sessions (
      stream_id TEXT PRIMARY KEY, content_kind TEXT NOT NULL, content_value TEXT NOT NULL,
      engine_id TEXT NOT NULL, proxy_id TEXT NOT NULL, started_at TEXT NOT NULL,
      ended_at TEXT, reason TEXT, bytes_in INTEGER NOT NULL DEFAULT 0, bytes_out INTEGER NOT NULL DEFAULT 0,
      peak_clients INTEGER NOT NULL DEFAULT 0)`);
    this.db.exec('CREATE INDEX IF NOT EXISTS sessions_started ON sessions(started_at)');
  }

  recordStarted(e: StreamStarted): void {
    this.db
      .prepare(
        `INSERT OR IGNORE INTO sessions (stream_id, content_kind, content_value, engine_id, proxy_id, started_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(e.streamId, e.content.kind, e.content.value, e.engineId, e.proxyId, e.startedAt);
  }

  /** An ended event completes its session (creating it if the started event was never seen). */
  recordEnded(e: StreamEnded): void {
    this.db
      .prepare(
        `INSERT INTO sessions (stream_id, content_kind, content_value, engine_id, proxy_id, started_at,
           ended_at, reason, bytes_in, bytes_out, peak_clients)
         VALUES (@streamId, @kind, @value, @engineId, @proxyId, @startedAt, @endedAt, @reason, @bytesIn, @bytesOut, @peak)
         ON CONFLICT(stream_id) DO UPDATE SET engine_id = excluded.engine_id, ended_at = excluded.ended_at,
           reason = excluded.reason, bytes_in = excluded.bytes_in, bytes_out = excluded.bytes_out,
           peak_clients = excluded.peak_clients`,
      )
      .run({
        streamId: e.streamId,
        kind: e.content.kind,
        value: e.content.value,
        engineId: e.engineId,
        proxyId: e.proxyId,
        startedAt: e.startedAt,
        endedAt: e.endedAt,
        reason: e.reason,
        bytesIn: e.bytesIn,
        bytesOut: e.bytesOut,
        peak: e.peakClients,
      });
  }

  active(): SessionRow[] {
    return this.db
      .prepare(`SELECT ${COLUMNS} FROM sessions WHERE ended_at IS NULL ORDER BY started_at`)
      .all() as SessionRow[];
  }

  sessions(filter: { since?: string; until?: string; content?: string; limit: number }): SessionRow[] {
    return this.db
      .prepare(
        `SELECT ${COLUMNS} FROM sessions
         WHERE (@since IS NULL OR started_at >= @since) AND (@until IS NULL OR started_at < @until)
           AND (@content IS NULL OR content_value = @content)
         ORDER BY started_at DESC LIMIT @limit`,
      )
      .all({
        since: filter.since ?? null,
        until: filter.until ?? null,
        content: filter.content ?? null,
        limit: filter.limit,
      }) as SessionRow[];
  }

  totals(): Totals {
    const row = this.db
      .prepare(
        `SELECT COUNT(*) AS started, COUNT(ended_at) AS ended, COALESCE(SUM(bytes_out), 0) AS bytesOut FROM sessions`,
      )
      .get() as { started: number; ended: number; bytesOut: number };
    const reasons = this.db
      .prepare('SELECT reason, COUNT(*) AS n FROM sessions WHERE reason IS NOT NULL GROUP BY reason')
      .all() as { reason: string; n: number }[];
    return {
      sessionsStarted: row.started,
      sessionsEnded: row.ended,
      activeStreams: row.started - row.ended,
      bytesOut: row.bytesOut,
      endedByReason: Object.fromEntries(reasons.map((r) => [r.reason, r.n])),
    };
  }

  close(): void {
    this.db.close();
  }
}
