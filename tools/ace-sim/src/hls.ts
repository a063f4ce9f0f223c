// HLS: a live playlist whose sliding window follows the wall clock, and segments cut from the looped clip.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimContext } from './context.ts';
import { baseUrl } from './http.ts';
import { TS_PACKET, loopSlice } from './media.ts';
import type { Session } from './sessions.ts';

const WINDOW_SEGMENTS = 5;

export function handlePlaylist(
  ctx: SimContext,
  req: IncomingMessage,
  res: ServerResponse,
  session: Session,
): void {
  ctx.sessions.touch(session);
  const seconds = ctx.settings.segmentSeconds;
  // A stalled engine's live window stops advancing (stallAfterMs after the session started).
  const { stallAfterMs } = ctx.faults.resolve(session.contentId, session.infohash);
  const now = stallAfterMs === null ? Date.now() : Math.min(Date.now(), session.startedAt + stallAfterMs);
  const newest = Math.floor(now / 1000 / seconds);
  const first = newest - WINDOW_SEGMENTS + 1;
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    `#EXT-X-TARGETDURATION:${Math.ceil(seconds)}`,
    `#EXT-X-MEDIA-SEQUENCE:${first}`,
  ];
  for (let n = first; n <= newest; n++) {
    lines.push(`#EXTINF:${seconds.toFixed(3)},`, `${baseUrl(req)}/ace/c/${session.infohash}/${n}.ts`);
  }
  const body = `${lines.join('\n')}\n`;
  res.writeHead(200, {
    'Content-Type': 'application/vnd.apple.mpegurl',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-cache',
  });
  res.end(body);
}

/** Segment `n`: the PAT/PMT, then `segmentSeconds` of the clip at its own bitrate. */
export function handleSegment(ctx: SimContext, res: ServerResponse, sessions: Session[], n: number): void {
  const { media } = ctx;
  const packets = Math.max(1, Math.round((ctx.settings.segmentSeconds * media.bitrateBps) / 8 / TS_PACKET));
  const size = packets * TS_PACKET;
  const offset = (n * size) % media.bytes.length;
  const body = Buffer.concat([media.header, ...loopSlice(media, offset, size)]);
  for (const session of sessions) {
    ctx.sessions.touch(session);
    session.bytesSent += body.length;
  }
  res.writeHead(200, { 'Content-Type': 'video/mp2t', 'Content-Length': body.length });
  res.end(body);
}
