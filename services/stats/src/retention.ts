import type { Logger } from '@acefleet/platform';
import type { Db } from './db.ts';
import type { HistoryStore } from './history.ts';

const DAY_MS = 24 * 3600_000;

export interface RetentionOptions {
  /** Samples older than this are deleted. */
  sampleRetentionMs: number;
  /** Entries of the events feed older than this are deleted. */
  eventRetentionMs: number;
  /** Ended stream sessions and player sessions older than this many days are deleted (open ones never). */
  retentionDays: number;
  /** At most this often the database file is given back its free pages (checkpoint, then VACUUM). */
  compactIntervalMs: number;
}

/** A file with more than this share of free pages is rewritten by VACUUM; below it, not worth the lock. */
const FREE_SHARE_TO_VACUUM = 0.2;

/**
 * What stats keeps, so months unattended fill no disk: samples a day, the events feed a month, sessions
 * STATS_RETENTION_DAYS; and, every compactIntervalMs, the WAL checkpointed back to zero bytes and the file
 * vacuumed when deletes left a fifth of it free. One step, run by StorageGuard on its timer (a failure there
 * pauses consuming like any failed write).
 */
export class Retention {
  private lastCompact = Date.now();

  constructor(
    private readonly db: Db,
    private readonly history: HistoryStore,
    private readonly opts: RetentionOptions,
    private readonly log: Logger,
  ) {}

  /** Delete what is past its retention; compact when due. Returns the rows deleted, by table. */
  run(now = Date.now()): Record<string, number> {
    const before = (ms: number): string => new Date(now - ms).toISOString();
    const gone = this.history.prune(before(this.opts.sampleRetentionMs), before(this.opts.eventRetentionMs));
    const sessionsBefore = before(this.opts.retentionDays * DAY_MS);
    const ended = (table: string): number =>
      this.db.prepare(`DELETE FROM ${table} WHERE ended_at IS NOT NULL AND ended_at < ?`).run(sessionsBefore)
        .changes;
    const peaks = this.db
      .prepare('DELETE FROM channel_peaks WHERE day < substr(?, 1, 10)')
      .run(sessionsBefore).changes;
    const deleted = { ...gone, sessions: ended('sessions'), players: ended('players'), peaks };
    if (now - this.lastCompact >= this.opts.compactIntervalMs) {
      this.lastCompact = now;
      this.compact();
    }
    return deleted;
  }

  /** Give the file system back what deletes freed: the WAL always, the main file when a fifth of it is free. */
  compact(): void {
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    if (pages > 0 && free / pages > FREE_SHARE_TO_VACUUM) {
      this.db.exec('VACUUM');
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      this.log.info({ pages, free }, 'database compacted');
    }
  }
}
