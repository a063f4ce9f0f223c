import type { Db } from './db.ts';

export type UsageGroup = 'content' | 'engine' | 'day';

export interface UsageRow {
  key: string;
  sessions: number;
  ended: number;
  bytesOut: number;
  streamSeconds: number;
  peakViewers: number;
}

/** Group expressions are fixed strings chosen by the group name, never built from input. */
const groupBy: Record<UsageGroup, string> = {
  content: `content_kind || ':' || lower(content_value)`,
  engine: 'engine_id',
  day: 'substr(started_at, 1, 10)',
};

/** Usage summaries over sessions started in [since, until): per content, per engine or per UTC day. */
export function usageSummary(
  db: Db,
  group: UsageGroup,
  range: { since?: string; until?: string; limit: number },
): UsageRow[] {
  const key = groupBy[group];
  // Per content, the peak is the channel's: viewers at once summed over the proxies that played it that day.
  const peak =
    group === 'content'
      ? `MAX(MAX(peak_clients), COALESCE((SELECT MAX(p.peak) FROM channel_peaks p
           WHERE p.content_kind = sessions.content_kind AND p.content_value = lower(sessions.content_value)
             AND (@since IS NULL OR p.day >= substr(@since, 1, 10))
             AND (@until IS NULL OR p.day <= substr(@until, 1, 10))), 0))`
      : 'MAX(peak_clients)';
  return db
    .prepare(
      `SELECT ${key} AS key, COUNT(*) AS sessions, COUNT(ended_at) AS ended,
         COALESCE(SUM(bytes_out), 0) AS bytesOut, ${peak} AS peakViewers,
         CAST(ROUND(SUM((julianday(COALESCE(ended_at, @now)) - julianday(started_at)) * 86400)) AS INTEGER)
           AS streamSeconds
       FROM sessions
       WHERE (@since IS NULL OR started_at >= @since) AND (@until IS NULL OR started_at < @until)
       GROUP BY key ORDER BY ${group === 'day' ? 'key DESC' : 'sessions DESC, key'} LIMIT @limit`,
    )
    .all({
      since: range.since ?? null,
      until: range.until ?? null,
      limit: range.limit,
      now: new Date().toISOString(),
    }) as UsageRow[];
}
