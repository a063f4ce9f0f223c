import type { FastifyRequest } from 'fastify';
import { AcefleetError } from '@acefleet/contracts';

/**
 * A live stream has no length and no past: `Range: bytes=0-` (what VLC, ffmpeg, Kodi and Jellyfin send to
 * probe for seeking) asks for the stream from its start, which is the whole live stream (200, no
 * Content-Range); any other range cannot be served (416).
 */
export function checkLiveRange(req: FastifyRequest): void {
  const range = req.headers.range;
  if (range === undefined || /^\s*bytes\s*=\s*0\s*-\s*$/i.test(range)) return;
  throw new AcefleetError(
    'range_not_satisfiable',
    'a live stream can only be read from its start: send no Range, or Range: bytes=0-',
  );
}
