import type { StreamStats } from '@acefleet/contracts';
import type { Db } from './db.ts';

export interface EventRow {
  seq: number;
  kind: string;
  engineId: string | null;
  streamId: string | null;
  at: string;
  data: unknown;
}

export interface SampleRow {
  at: string;
  status: string;
  peers: number;
  speedDownKBps: number;
  speedUpKBps: number;
  downloadedBytes: number;
}

export interface EventFilter {
  kind?: string;
  engine?: string;
  stream?: string;
  since?: string;
  before?: number;
  limit: number;
}

/**
 * Everything but sessions: the event log (keyed by JetStream sequence, so storing one twice is a no-op)
 * and per-stream stat samples (keyed by stream and time), both pruned after their retention.
 */
export class HistoryStore {
  constructor(private readonly db: Db) {}

  recordEvent(e: Omit<EventRow, 'data'> & { data: string }): void {
    this.db
      .prepare(
        `INSERT OR IGNORE INTO events (seq, kind, engine_id, stream_id, at, data)
         VALUES (@seq, @kind, @engineId, @streamId, @at, @data)`,
      )
      .run(e);
  }

  recordSample(s: StreamStats): void {
    this.db
      .prepare(
        `INSERT OR IGNORE INTO stream_samples (stream_id, at, status, peers, speed_down, speed_up, downloaded, uploaded)
         VALUES (@streamId, @at, @status, @peers, @speedDownKBps, @speedUpKBps, @downloadedBytes, @uploadedBytes)`,
      )
      .run(s);
  }

  events(f: EventFilter): EventRow[] {
    const rows = this.db
      .prepare(
        `SELECT seq, kind, engine_id AS engineId, stream_id AS streamId, at, data FROM events
         WHERE (@kind IS NULL OR kind = @kind) AND (@engine IS NULL OR engine_id = @engine)
           AND (@stream IS NULL OR stream_id = @stream) AND (@since IS NULL OR at >= @since)
           AND (@before IS NULL OR seq < @before)
         ORDER BY seq DESC LIMIT @limit`,
      )
      .all({
        kind: f.kind ?? null,
        engine: f.engine ?? null,
        stream: f.stream ?? null,
        since: f.since ?? null,
        before: f.before ?? null,
        limit: f.limit,
      }) as (EventRow & { data: string })[];
    return rows.map((r) => ({ ...r, data: JSON.parse(r.data) as unknown }));
  }

  /** The newest event of `kind` per key (engine or stream), with its data. */
  latestBy(kind: string, key: 'engine_id' | 'stream_id'): Map<string, unknown> {
    const rows = this.db
      .prepare(
        `SELECT ${key} AS id, data FROM events WHERE seq IN
           (SELECT MAX(seq) FROM events WHERE kind = ? AND ${key} IS NOT NULL GROUP BY ${key})`,
      )
      .all(kind) as { id: string; data: string }[];
    return new Map(rows.map((r) => [r.id, JSON.parse(r.data) as unknown]));
  }

  latest(kind: string): unknown {
    const row = this.db
      .prepare('SELECT data FROM events WHERE kind = ? ORDER BY seq DESC LIMIT 1')
      .get(kind) as { data: string } | undefined;
    return row ? (JSON.parse(row.data) as unknown) : undefined;
  }

  samples(streamId: string, since?: string): SampleRow[] {
    return this.db
      .prepare(
        `SELECT at, status, peers, speed_down AS speedDownKBps, speed_up AS speedUpKBps,
           downloaded AS downloadedBytes
         FROM stream_samples WHERE stream_id = @streamId AND (@since IS NULL OR at >= @since) ORDER BY at`,
      )
      .all({ streamId, since: since ?? null }) as SampleRow[];
  }

  /** The newest sample of each active stream. */
  latestSamples(): Map<string, SampleRow> {
    const rows = this.db
      .prepare(
        `SELECT s.stream_id AS streamId, s.at, s.status, s.peers, s.speed_down AS speedDownKBps,
           s.speed_up AS speedUpKBps, s.downloaded AS downloadedBytes
         FROM stream_samples s JOIN sessions ON sessions.stream_id = s.stream_id AND sessions.ended_at IS NULL
         WHERE s.at = (SELECT MAX(at) FROM stream_samples WHERE stream_id = s.stream_id)`,
      )
      .all() as (SampleRow & { streamId: string })[];
    return new Map(rows.map(({ streamId, ...r }) => [streamId, r]));
  }

  prune(samplesBefore: string, eventsBefore: string): { samples: number; events: number } {
    const samples = this.db.prepare('DELETE FROM stream_samples WHERE at < ?').run(samplesBefore).changes;
    const events = this.db.prepare('DELETE FROM events WHERE at < ?').run(eventsBefore).changes;
    return { samples, events };
  }
}
