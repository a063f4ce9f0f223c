import type { PlayerSessionEnded, PlayerSessionStarted } from '@acefleet/contracts';
import type { Db } from './db.ts';

export interface PlayerRow {
  playerId: string;
  streamId: string;
  proxyId: string;
  kind: string;
  contentKind: string;
  contentValue: string;
  /** The player token's name; null when it played without one (then `address` names it). */
  token: string | null;
  address: string;
  userAgent: string;
  startedAt: string;
  endedAt: string | null;
  bytesOut: number;
}

export interface PlayerFilter {
  state?: 'active' | 'ended';
  token?: string;
  content?: string;
  since?: string;
  limit: number;
}

const COLUMNS = `player_id AS playerId, stream_id AS streamId, proxy_id AS proxyId, kind,
  content_kind AS contentKind, content_value AS contentValue, token, address, user_agent AS userAgent,
  started_at AS startedAt, ended_at AS endedAt, bytes_out AS bytesOut`;

/**
 * Player sessions from player events: who watches what, since when, how many bytes. Every write is keyed
 * by player id, so a redelivered event changes nothing; an ended event completes (or creates) its row.
 */
export class PlayerStore {
  constructor(private readonly db: Db) {}

  recordStarted(e: PlayerSessionStarted): void {
    this.db
      .prepare(
        `INSERT OR IGNORE INTO players (player_id, stream_id, proxy_id, kind, content_kind, content_value, token,
           address, user_agent, started_at)
         VALUES (@playerId, @streamId, @proxyId, @kind, @contentKind, @contentValue, @token, @address, @userAgent, @startedAt)`,
      )
      .run(this.params(e));
  }

  recordEnded(e: PlayerSessionEnded): void {
    this.db
      .prepare(
        `INSERT INTO players (player_id, stream_id, proxy_id, kind, content_kind, content_value, token, address,
           user_agent, started_at, ended_at, bytes_out)
         VALUES (@playerId, @streamId, @proxyId, @kind, @contentKind, @contentValue, @token, @address, @userAgent,
           @startedAt, @endedAt, @bytesOut)
         ON CONFLICT(player_id) DO UPDATE SET ended_at = excluded.ended_at, bytes_out = excluded.bytes_out`,
      )
      .run({ ...this.params(e), endedAt: e.endedAt, bytesOut: e.bytesOut });
  }

  /**
   * A stream that ended takes its players with it: rows still open (their proxy died before it could say
   * so) end with it. A player.ended that comes later still sets the exact time and bytes.
   */
  endStream(streamId: string, endedAt: string): void {
    this.db
      .prepare('UPDATE players SET ended_at = ? WHERE stream_id = ? AND ended_at IS NULL')
      .run(endedAt, streamId);
  }

  list(f: PlayerFilter): PlayerRow[] {
    return this.db
      .prepare(
        `SELECT ${COLUMNS} FROM players
         WHERE (@state IS NULL OR (@state = 'active') = (ended_at IS NULL))
           AND (@token IS NULL OR token = @token)
           AND (@content IS NULL OR lower(content_value) = lower(@content))
           AND (@since IS NULL OR started_at >= @since)
         ORDER BY started_at DESC LIMIT @limit`,
      )
      .all({
        state: f.state ?? null,
        token: f.token ?? null,
        content: f.content ?? null,
        since: f.since ?? null,
        limit: f.limit,
      }) as PlayerRow[];
  }

  private params(e: PlayerSessionStarted): Record<string, string | null> {
    return {
      playerId: e.playerId,
      streamId: e.streamId,
      proxyId: e.proxyId,
      kind: e.kind,
      contentKind: e.content.kind,
      contentValue: e.content.value,
      token: e.player.token ?? null,
      address: e.player.address,
      userAgent: e.player.userAgent,
      startedAt: e.startedAt,
    };
  }
}
