import type {
  ProxyLost,
  StatsSummaryReply,
  StreamEnded,
  StreamMoved,
  StreamStarted,
  StreamViewers,
} from '@acefleet/contracts';
import type { Db } from './db.ts';

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
  viewers: number | null;
  /** How many times the stream moved to another engine; engineId is where it plays now. */
  moves: number;
}

/** What stats.summary and /api/totals answer (StatsSummaryReply in contracts). */
export type Totals = StatsSummaryReply;

export interface SessionFilter {
  since?: string;
  until?: string;
  content?: string;
  engine?: string;
  proxy?: string;
  reason?: string;
  state?: 'active' | 'ended';
  limit: number;
}

const COLUMNS = `stream_id AS streamId, content_kind AS contentKind, content_value AS contentValue,
  engine_id AS engineId, proxy_id AS proxyId, started_at AS startedAt, ended_at AS endedAt, reason,
  bytes_in AS bytesIn, bytes_out AS bytesOut, peak_clients AS peakClients, viewers, moves`;

/**
 * Sessions built from stream events. Every write is idempotent (keyed by stream id, newest report wins), so
 * an event delivered twice (redelivery after a crash before the ack) changes nothing the second time. A
 * proxy's event changes only that proxy's sessions: a stream id another proxy started is left alone.
 */
export class SessionStore {
  constructor(private readonly db: Db) {}

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
           peak_clients = excluded.peak_clients, viewers = 0
         WHERE sessions.proxy_id = excluded.proxy_id`,
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

  /** The stream plays on another engine now: one more move, applied once (the newest move wins). */
  recordMoved(e: StreamMoved): void {
    this.db
      .prepare(
        `UPDATE sessions SET engine_id = @engineId, moves = moves + 1, moved_at = @at
         WHERE stream_id = @streamId AND proxy_id = @proxyId AND ended_at IS NULL
           AND (moved_at IS NULL OR moved_at < @at)`,
      )
      .run({ streamId: e.streamId, proxyId: e.proxyId, engineId: e.engineId, at: e.at });
  }

  /**
   * stats found the proxy gone: its sessions started before `at` and still open end at `at` (proxy_lost). An
   * ended event the proxy sends after all (it was only cut off) replaces this guess with what it knew.
   */
  recordProxyLost(e: ProxyLost): void {
    this.db
      .prepare(
        `UPDATE sessions SET ended_at = @at, reason = 'proxy_lost', viewers = 0
         WHERE proxy_id = @proxyId AND ended_at IS NULL AND started_at <= @at`,
      )
      .run({ proxyId: e.proxyId, at: e.at });
  }

  recordViewers(e: StreamViewers): void {
    const { changes } = this.db
      .prepare(
        `UPDATE sessions SET viewers = @viewers, viewers_at = @at, peak_clients = MAX(peak_clients, @viewers)
         WHERE stream_id = @streamId AND proxy_id = @proxyId AND ended_at IS NULL
           AND (viewers_at IS NULL OR viewers_at < @at)`,
      )
      .run(e);
    if (changes > 0) this.recordChannelPeak(e.streamId, e.at);
  }

  /** The channel's viewers now, summed over every proxy playing it, raise its peak of the day if higher. */
  private recordChannelPeak(streamId: string, at: string): void {
    this.db
      .prepare(
        `INSERT INTO channel_peaks (content_kind, content_value, day, peak)
         SELECT s.content_kind, lower(s.content_value), substr(@at, 1, 10), COALESCE(SUM(o.viewers), 0)
           FROM sessions s JOIN sessions o
             ON o.content_kind = s.content_kind AND lower(o.content_value) = lower(s.content_value)
            AND o.ended_at IS NULL
          WHERE s.stream_id = @streamId
          GROUP BY s.content_kind, lower(s.content_value)
         ON CONFLICT (content_kind, content_value, day) DO UPDATE SET peak = MAX(peak, excluded.peak)`,
      )
      .run({ streamId, at });
  }

  get(streamId: string): SessionRow | undefined {
    return this.db.prepare(`SELECT ${COLUMNS} FROM sessions WHERE stream_id = ?`).get(streamId) as
      SessionRow | undefined;
  }

  active(): SessionRow[] {
    return this.db
      .prepare(`SELECT ${COLUMNS} FROM sessions WHERE ended_at IS NULL ORDER BY started_at`)
      .all() as SessionRow[];
  }

  /** The proxies that have open sessions. */
  activeProxies(): string[] {
    const rows = this.db.prepare('SELECT DISTINCT proxy_id AS id FROM sessions WHERE ended_at IS NULL').all();
    return (rows as { id: string }[]).map((r) => r.id);
  }

  sessions(f: SessionFilter): SessionRow[] {
    return this.db
      .prepare(
        `SELECT ${COLUMNS} FROM sessions
         WHERE (@since IS NULL OR started_at >= @since) AND (@until IS NULL OR started_at < @until)
           AND (@content IS NULL OR lower(content_value) = lower(@content)) AND (@engine IS NULL OR engine_id = @engine)
           AND (@proxy IS NULL OR proxy_id = @proxy) AND (@reason IS NULL OR reason = @reason)
           AND (@state IS NULL OR (@state = 'active') = (ended_at IS NULL))
         ORDER BY started_at DESC LIMIT @limit`,
      )
      .all({
        since: f.since ?? null,
        until: f.until ?? null,
        content: f.content ?? null,
        engine: f.engine ?? null,
        proxy: f.proxy ?? null,
        reason: f.reason ?? null,
        state: f.state ?? null,
        limit: f.limit,
      }) as SessionRow[];
  }

  totals(): Totals {
    const row = this.db
      .prepare(
        `SELECT COUNT(*) AS started, COUNT(ended_at) AS ended, COALESCE(SUM(bytes_in), 0) AS bytesIn,
           COALESCE(SUM(bytes_out), 0) AS bytesOut FROM sessions`,
      )
      .get() as { started: number; ended: number; bytesIn: number; bytesOut: number };
    const reasons = this.db
      .prepare('SELECT reason, COUNT(*) AS n FROM sessions WHERE reason IS NOT NULL GROUP BY reason')
      .all() as { reason: string; n: number }[];
    return {
      sessionsStarted: row.started,
      sessionsEnded: row.ended,
      activeStreams: row.started - row.ended,
      bytesIn: row.bytesIn,
      bytesOut: row.bytesOut,
      endedByReason: Object.fromEntries(reasons.map((r) => [r.reason, r.n])),
    };
  }
}
