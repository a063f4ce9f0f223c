import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AcefleetError } from '@acefleet/contracts';
import type { Admission } from '../admission/admission.ts';
import type { HlsOutput } from '../hls/hls-output.ts';
import type { StreamHub } from '../session/hub.ts';
import { playerOf } from '../players/player-gate.ts';
import type { PlayerSessions } from '../players/player-sessions.ts';
import type { Stream } from '../session/stream.ts';
import { playerSelector, type Query } from './player-request.ts';

/**
 * A player that came with `?token=` gets it on every playlist and segment URL too (those requests pass the
 * same gate); one that sent `Authorization` sends it again by itself.
 */
function tokenSuffix(req: FastifyRequest): string {
  const token = playerOf(req).presented;
  if (!token || typeof (req.query as Record<string, unknown>).token !== 'string') return '';
  return `?token=${encodeURIComponent(token)}`;
}

/** HLS players only poll: one is told apart from another by its address and user agent. */
function viewerOf(req: FastifyRequest): string {
  return `${req.ip} ${req.headers['user-agent'] ?? ''}`;
}

const PLAYLIST_TYPE = 'application/vnd.apple.mpegurl';

function sendPlaylist(reply: FastifyReply, text: string): FastifyReply {
  return reply.type(PLAYLIST_TYPE).header('cache-control', 'no-cache').send(text);
}

/**
 * A master playlist with one variant: the stream's own live playlist, which waits for its first segment.
 * Sent when that takes longer than `waitHeadMs` (a real engine warms up for 5-25 s), so the player has an
 * answer at once and asks for the live playlist next.
 */
function masterPlaylist(streamId: string, suffix: string): string {
  return [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    '#EXT-X-STREAM-INF:BANDWIDTH=4000000',
    `/ace/hls/${streamId}/live.m3u8${suffix}`,
    '',
  ].join('\n');
}

function gone(): AcefleetError {
  return new AcefleetError('stream_not_found', 'this HLS session has ended; reload the playlist');
}

/**
 * GET /ace/manifest.m3u8 (Acexy-compatible selection) and the segments it points at. HLS is an output of
 * the channel's one stream (the same engine session as its MPEG-TS players): the proxy cuts the segments
 * from the stream's packets. A stream whose first segment comes within `waitHeadMs` answers with its live
 * playlist straight away; a slower one with a master playlist pointing at `/ace/hls/<stream>/live.m3u8`.
 * Every playlist and segment request counts towards the player's session and keeps it a viewer.
 */
export function hlsRoutes(
  app: FastifyInstance,
  hub: StreamHub,
  admission: Admission,
  players: PlayerSessions,
  waitHeadMs: number,
): void {
  /** The stream's HLS output, this request counted as its player's (which holds an admission slot). */
  const outputOf = (req: FastifyRequest, stream: Stream, key: string): HlsOutput => {
    const player = playerOf(req);
    return stream.hlsRequest(viewerOf(req), () =>
      admission.admit(player.client, key, { opensStream: false, asPlayer: true }),
    );
  };
  /** An answer, counted towards the player's session from the request's start to its end. */
  const counted = async <T extends string | Buffer>(
    req: FastifyRequest,
    stream: Stream,
    make: () => Promise<T>,
  ): Promise<T> => {
    const done = players.hlsRequest(playerOf(req), stream);
    let sent = 0;
    try {
      const body = await make();
      sent = Buffer.byteLength(body);
      return body;
    } finally {
      done(sent);
    }
  };
  const base = (stream: Stream): string => `/ace/hls/${stream.id}`;

  app.get<{ Querystring: Query }>('/ace/manifest.m3u8', async (req, reply) => {
    const selector = playerSelector(req);
    const player = playerOf(req);
    let stream = hub.get(selector.key);
    if (!stream) {
      // The admission check for a new stream; the player's own slot is taken by outputOf below.
      admission.admit(player.client, selector.key, { opensStream: true, asPlayer: false })();
      stream = hub.open(selector);
    }
    const opened = stream;
    const output = outputOf(req, opened, selector.key);
    const suffix = tokenSuffix(req);
    const text = await counted(req, opened, async () => {
      const playlist = output.playlist(base(opened), suffix);
      const first = await Promise.race([playlist, sleep(waitHeadMs, undefined)]);
      if (first !== undefined) return first;
      // The player asks for the live playlist next: a failure then answers that request.
      playlist.catch(() => undefined);
      return masterPlaylist(opened.id, suffix);
    });
    return sendPlaylist(reply, text);
  });
  app.get<{ Params: { session: string } }>('/ace/hls/:session/live.m3u8', async (req, reply) => {
    const stream = hub.byId(req.params.session);
    if (!stream) throw gone();
    const output = outputOf(req, stream, stream.key);
    const text = await counted(req, stream, () => output.playlist(base(stream), tokenSuffix(req)));
    return sendPlaylist(reply, text);
  });
  app.get<{ Params: { session: string; segment: string } }>(
    '/ace/hls/:session/:segment',
    async (req, reply) => {
      const stream = hub.byId(req.params.session);
      if (!stream) throw gone();
      const output = outputOf(req, stream, stream.key);
      const body = await counted(req, stream, async () => output.segment(req.params.segment));
      return reply.type('video/mp2t').send(body);
    },
  );
}
