// HLS: a live playlist over the same timeline the TS playback plays. Segment n of a content is GOPs
// [n·m, (n+1)·m) of its channel (m GOPs make `segmentSeconds`): it starts with the PAT and PMT in front of a
// key frame, its bytes are the timeline's, so segments follow each other with running counters and
// timestamps, and the media sequence is the segment's place on the timeline.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TIMESTAMP_HZ } from '@acefleet/mpegts';
import type { SimContext } from './context.ts';
import { baseUrl } from './http.ts';
import type { Session } from './sessions.ts';

const WINDOW_SEGMENTS = 5;

/** GOPs per segment: `segmentSeconds` in whole GOPs of the clip, at least one. */
function gopsPerSegment(ctx: SimContext): number {
  const gopSeconds = ctx.media.durationTicks / ctx.media.gops.length / TIMESTAMP_HZ;
  return Math.max(1, Math.round(ctx.settings.segmentSeconds / gopSeconds));
}

function segmentTicks(ctx: SimContext, n: number, m: number): number {
  let ticks = 0;
  for (let g = n * m; g < (n + 1) * m; g++) ticks += ctx.timeline.gopDuration(g);
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
  const m = gopsPerSegment(ctx);
  // The newest segment is the last whole one: the next one's key frame is already live.
  const newest = Math.floor(ctx.timeline.gopAt(ctx.timeline.livePacket(session.phase, now)) / m) - 1;
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
 * Segment `n`: its GOPs' packets of the timeline, PAT and PMT first. (A content's phase only says which
 * segment is live; segment n itself is the same packets for every content.)
 */
export function handleSegment(ctx: SimContext, res: ServerResponse, sessions: Session[], n: number): void {
  const m = gopsPerSegment(ctx);
  const from = ctx.timeline.gopStart(n * m);
  const pieces = ctx.timeline.slice(from, ctx.timeline.gopStart((n + 1) * m) - from);
  const length = pieces.reduce((sum, p) => sum + p.length, 0);
  for (const session of sessions) {
    ctx.sessions.touch(session);
    session.bytesSent += length;
  }
  res.writeHead(200, { 'Content-Type': 'video/mp2t', 'Content-Length': length });
  for (const piece of pieces) res.write(piece);
  res.end();
}
