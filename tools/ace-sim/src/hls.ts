// HLS: a live playlist over the same timeline the TS playback plays. Segment n of a content runs from entry
// point n·m of its channel to entry point (n+1)·m (entry points: key frames with PAT and PMT in front, one a
// second in the made clip; m of them make `segmentSeconds`): it starts with the tables and a key frame, its
// bytes are the timeline's, so segments follow each other with running counters and timestamps, and the
// media sequence is the segment's place on the timeline.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TIMESTAMP_HZ } from '@acefleet/mpegts';
import type { SimContext } from './context.ts';
import { baseUrl } from './http.ts';
import type { Session } from './sessions.ts';

const WINDOW_SEGMENTS = 5;

/** Entry points per segment: `segmentSeconds` in whole entry points of the clip (on average), at least one. */
function entriesPerSegment(ctx: SimContext): number {
  const entrySeconds = ctx.media.durationTicks / ctx.media.entryPoints.length / TIMESTAMP_HZ;
  return Math.max(1, Math.round(ctx.settings.segmentSeconds / entrySeconds));
}

function segmentTicks(ctx: SimContext, n: number, m: number): number {
  let ticks = 0;
  for (let e = n * m; e < (n + 1) * m; e++) ticks += ctx.timeline.entryDuration(e);
  return ticks;
}

export function handlePlaylist(
  ctx: SimContext,
  req: IncomingMessage,
  res: ServerResponse,
  session: Session,
): void {
  ctx.sessions.touch(session);
  // A stalled engine's live window stops advancing (stallAfterMs after the session started).
  const { stallAfterMs } = ctx.faults.resolve(session.contentId, session.infohash);
  const now = stallAfterMs === null ? Date.now() : Math.min(Date.now(), session.startedAt + stallAfterMs);
  const m = entriesPerSegment(ctx);
  // The newest segment is the last whole one: the next one's first entry point is already live.
  const newest = Math.floor(ctx.timeline.entryAt(ctx.timeline.livePacket(session.phase, now)) / m) - 1;
  const first = newest - WINDOW_SEGMENTS + 1;
  const durations = Array.from(
    { length: WINDOW_SEGMENTS },
    (_, i) => segmentTicks(ctx, first + i, m) / TIMESTAMP_HZ,
  );
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    `#EXT-X-TARGETDURATION:${Math.ceil(Math.max(...durations))}`,
    `#EXT-X-MEDIA-SEQUENCE:${first}`,
  ];
  durations.forEach((seconds, i) => {
    lines.push(`#EXTINF:${seconds.toFixed(3)},`, `${baseUrl(req)}/ace/c/${session.infohash}/${first + i}.ts`);
  });
  const body = `${lines.join('\n')}\n`;
  res.writeHead(200, {
    'Content-Type': 'application/vnd.apple.mpegurl',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-cache',
  });
  res.end(body);
}

/**
 * Segment `n`: its packets of the timeline, PAT and PMT first. (A content's phase only says which
 * segment is live; segment n itself is the same packets for every content.)
 */
export function handleSegment(ctx: SimContext, res: ServerResponse, sessions: Session[], n: number): void {
  const m = entriesPerSegment(ctx);
  const from = ctx.timeline.entryStart(n * m);
  const pieces = ctx.timeline.slice(from, ctx.timeline.entryStart((n + 1) * m) - from);
  const length = pieces.reduce((sum, p) => sum + p.length, 0);
  for (const session of sessions) {
    ctx.sessions.touch(session);
    session.bytesSent += length;
  }
  res.writeHead(200, { 'Content-Type': 'video/mp2t', 'Content-Length': length });
  for (const piece of pieces) res.write(piece);
  res.end();
}
