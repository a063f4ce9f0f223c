// The engine's /ace/* API: start (getstream / manifest), playback, stat and stop.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimContext } from './context.ts';
import { badDocument } from './bad-body.ts';
import { resolveContent } from './content.ts';
import { baseUrl, gone, sendAce } from './http.ts';
import { startPacer, type Pacer } from './pacer.ts';
import type { Session } from './sessions.ts';

export const UNKNOWN_SESSION = 'unknown playback session id';
export type StartKind = 'ts' | 'hls';

export function handleStart(
  ctx: SimContext,
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams,
  kind: StartKind,
): void {
  const ref = resolveContent(query);
  const faults = 'error' in ref ? ctx.faults.resolve() : ctx.faults.resolve(ref.contentId, ref.infohash);
  ctx.later(faults.startDelayMs, () => {
    if (gone(res)) return;
    if ('error' in ref || faults.offline) {
      ctx.log({ error: 'error' in ref ? ref.error : 'offline' }, 'start refused');
      return sendAce(res, null, 'error' in ref ? ref.error : 'failed to load content');
    }
    const session = ctx.sessions.start({
      infohash: ref.infohash,
      contentId: ref.contentId,
      pid: query.get('pid') ?? undefined,
      phase: ctx.timeline.phaseOf(ref.infohash),
      warmupMs: ctx.profile.nextWarmupMs(),
    });
    const path = `${session.infohash}/${session.token}`;
    const base = `${baseUrl(req)}/ace`;
    const playbackUrl = kind === 'ts' ? `${base}/r/${path}` : `${base}/m/${path}.m3u8`;
    const warmupMs = session.readyAt - session.startedAt;
    ctx.log(
      { sessionId: session.id, infohash: session.infohash, pid: session.pid, kind, warmupMs },
      'session started',
    );
    if (query.get('format') !== 'json') {
      res.writeHead(302, { Location: playbackUrl, 'Content-Length': 0 });
      return void res.end();
    }
    sendAce(res, {
      playback_url: playbackUrl,
      stat_url: `${base}/stat/${path}`,
      command_url: `${base}/cmd/${path}`,
      infohash: session.infohash,
      playback_session_id: session.id,
      is_live: 1,
      is_encrypted: 0,
      client_session_id: -1,
      bitrate: Math.round(ctx.settings.bitrateBps / 8),
    });
  });
}

/**
 * The media of a session. Head and body come together once the engine has something to send: after the
 * session's warm-up and after `firstByteDelayMs`, whichever ends later. Engines are only known to send the
 * first byte late; nothing at all until then is the case harder for a client, so that is what is simulated.
 */
export function handlePlayback(ctx: SimContext, res: ServerResponse, session: Session): void {
  const faults = () => ctx.faults.resolve(session.contentId, session.infohash);
  let pacer: Pacer | undefined;
  const removeReader = ctx.sessions.addReader(session, {
    end: () => (pacer ? pacer.finish('stopped') : res.destroy()),
  });
  res.on('close', removeReader);
  ctx.sessions.touch(session);
  const delayMs = Math.max(session.readyAt - Date.now(), faults().firstByteDelayMs);
  ctx.later(delayMs, () => {
    if (gone(res) || session.stoppedAt !== undefined) return;
    const bad = faults().badBody;
    const document = bad && badDocument(bad);
    if (document) {
      res.writeHead(200, { 'Content-Type': document.contentType, 'Content-Length': document.body.length });
      session.bytesSent += document.body.length;
      return void res.end(document.body);
    }
    res.writeHead(200, { 'Content-Type': 'video/mp2t', 'Cache-Control': 'no-cache' });
    pacer = startPacer({
      media: ctx.media,
      timeline: ctx.timeline,
      phase: session.phase,
      out: res,
      bitrateBps: ctx.settings.bitrateBps,
      burstSeconds: ctx.settings.burstSeconds,
      tickMs: ctx.settings.tickMs,
      faults,
      onBytes: (n) => {
        session.bytesSent += n;
      },
      onEnd: (why) => {
        ctx.log({ sessionId: session.id, why, bytesSent: session.bytesSent }, 'playback ended');
        if (why === 'cut') ctx.sessions.end(session, 'cut');
      },
    });
  });
}

export function handleStat(ctx: SimContext, res: ServerResponse, session: Session | undefined): void {
  const faults = session && ctx.faults.resolve(session.contentId, session.infohash);
  if (!session || !faults || faults.expireSessions) return sendAce(res, null, UNKNOWN_SESSION);
  const now = Math.floor(Date.now() / 1000);
  const first = Math.max(Math.floor(session.startedAt / 1000), now - 1800);
  const bitrateBps = Math.min(ctx.settings.bitrateBps, (faults.slowBody ?? Infinity) * 1000);
  const speedDown = faults.starved ? 0 : (faults.speedDownKbps ?? Math.round(bitrateBps / 8 / 1024));
  // Until its first media byte the session prebuffers: progress and peers rise over its warm-up.
  const prebuffering = session.bytesSent === 0;
  const warmupMs = session.readyAt - session.startedAt;
  const progress = warmupMs <= 0 ? 1 : Math.min(1, (Date.now() - session.startedAt) / warmupMs);
  const peers = faults.starved ? 0 : prebuffering ? Math.round(faults.peers * progress) : faults.peers;
  sendAce(res, {
    status: prebuffering ? 'prebuf' : 'dl',
    peers,
    speed_down: speedDown,
    speed_up: Math.round(speedDown / 8),
    downloaded: session.bytesSent,
    uploaded: Math.floor(session.bytesSent / 8),
    total_progress: prebuffering ? Math.floor(progress * 100) : 0,
    playback_session_id: session.id,
    infohash: session.infohash,
    is_live: 1,
    livepos: {
      pos: String(now),
      live_first: String(first),
      live_last: String(now),
      first_ts: String(first),
      last_ts: String(now),
      is_live: '1',
      buffer_pieces: faults.starved ? '0' : '30',
    },
  });
}

export function handleCommand(
  ctx: SimContext,
  res: ServerResponse,
  session: Session | undefined,
  method: string | null,
): void {
  if (method === 'stop') ctx.sessions.countStop();
  const faults = session && ctx.faults.resolve(session.contentId, session.infohash);
  if (!session || !faults || faults.expireSessions) return sendAce(res, null, UNKNOWN_SESSION);
  if (method !== 'stop') return sendAce(res, null, `unknown method: ${method ?? ''}`);
  ctx.sessions.end(session, 'stopped');
  sendAce(res, 'ok');
}
