import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AcefleetError } from '@acefleet/contracts';
import type { Admission, Release } from '../admission.ts';
import { HlsSession, type HlsDeps } from '../hls.ts';
import { playerOf } from '../players/player-gate.ts';
import type { PlayerSessions } from '../players/player-sessions.ts';
import type { StreamSelector } from '../selector.ts';
import { playerSelector, type Query } from './player-request.ts';

/** The HLS sessions of this proxy: one per stream key, looked up by key for playlists and by id for segments. */
export class HlsHub {
  private readonly byKey = new Map<string, HlsSession>();
  private readonly byId = new Map<string, HlsSession>();

  constructor(private readonly deps: Omit<HlsDeps, 'onEnded'>) {}

  /** The session of this stream key, or a new one that holds the slot `admit` gives until it ends. */
  open({ key, content, options }: StreamSelector, admit: () => Release): HlsSession {
    const existing = this.byKey.get(key);
    if (existing) return existing;
    const release = admit();
    const session = new HlsSession(content, options, {
      ...this.deps,
      onEnded: (s) => {
        if (this.byKey.get(key) === s) this.byKey.delete(key);
        this.byId.delete(s.id);
        release();
      },
    });
    this.byKey.set(key, session);
    this.byId.set(session.id, session);
    return session;
  }

  get(id: string): HlsSession | undefined {
    return this.byId.get(id);
  }

  all(): HlsSession[] {
    return [...this.byId.values()];
  }

  closeAll(): void {
    for (const s of this.all()) s.end('shutdown');
  }
}

/**
 * A player that came with `?token=` gets it on every playlist and segment URL too (those requests pass the
 * same gate); one that sent `Authorization` sends it again by itself.
 */
function withToken(req: FastifyRequest, playlist: string): string {
  const token = playerOf(req).presented;
  if (!token || typeof (req.query as Record<string, unknown>).token !== 'string') return playlist;
  return playlist.replace(/^(?!#)(\S+)$/gm, `$1?token=${encodeURIComponent(token)}`);
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
 * A master playlist with one variant: the session's own live playlist, which waits for the engine. Sent when
 * the engine takes longer than `waitHeadMs` to give its first playlist (a real engine warms up for 5-25 s),
 * so the player has an answer at once and asks for the segments when they exist.
 */
function masterPlaylist(sessionId: string): string {
  return [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    '#EXT-X-STREAM-INF:BANDWIDTH=4000000',
    `/ace/hls/${sessionId}/live.m3u8`,
    '',
  ].join('\n');
}

/**
 * GET /ace/manifest.m3u8 (Acexy-compatible selection) and the segments it points at. A session whose engine
 * answers within `waitHeadMs` gets its live playlist straight away, as from the engine; a slower one gets a
 * master playlist pointing at `/ace/hls/<session>/live.m3u8`, which answers once the engine's does. Every
 * playlist and segment counts towards the player's session.
 */
export function hlsRoutes(
  app: FastifyInstance,
  hub: HlsHub,
  admission: Admission,
  players: PlayerSessions,
  waitHeadMs: number,
): void {
  /** A playlist answer, counted towards the player's session from the request's start to its end. */
  const playlistOf = async (
    req: FastifyRequest,
    session: HlsSession,
    make: () => Promise<string>,
  ): Promise<string> => {
    const done = players.hlsRequest(playerOf(req), session);
    let text = '';
    try {
      text = withToken(req, await make());
      return text;
    } finally {
      done(Buffer.byteLength(text));
    }
  };
  app.get<{ Querystring: Query }>('/ace/manifest.m3u8', async (req, reply) => {
    const selector = playerSelector(req);
    const player = playerOf(req);
    const session = hub.open(selector, () =>
      admission.admit(player.client, selector.key, { opensStream: true, asPlayer: false }),
    );
    const text = await playlistOf(req, session, async () => {
      const playlist = session.playlist(`/ace/hls/${session.id}`, viewerOf(req));
      const first = await Promise.race([playlist, sleep(waitHeadMs, undefined)]);
      if (first !== undefined) return first;
      // The player asks for the live playlist next: a failure then answers that request.
      playlist.catch(() => undefined);
      return masterPlaylist(session.id);
    });
    return sendPlaylist(reply, text);
  });
  app.get<{ Params: { session: string } }>('/ace/hls/:session/live.m3u8', async (req, reply) => {
    const session = hub.get(req.params.session);
    if (!session)
      throw new AcefleetError('stream_not_found', 'this HLS session has ended; reload the playlist');
    const text = await playlistOf(req, session, () =>
      session.playlist(`/ace/hls/${session.id}`, viewerOf(req)),
    );
    return sendPlaylist(reply, text);
  });
  app.get<{ Params: { session: string; segment: string } }>(
    '/ace/hls/:session/:segment',
    async (req, reply) => {
      const session = hub.get(req.params.session);
      if (!session)
        throw new AcefleetError('stream_not_found', 'this HLS session has ended; reload the playlist');
      const done = players.hlsRequest(playerOf(req), session);
      let sent = 0;
      try {
        const body = await session.segment(req.params.segment, viewerOf(req));
        sent = body.length;
        return await reply.type('video/mp2t').send(body);
      } finally {
        done(sent);
      }
    },
  );
}
