// Builds the simulated engine: one http.Server, routed by path. Listening is the caller's choice.
import { randomInt } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { handleAdmin } from './admin.ts';
import { handleCommand, handlePlayback, handleStart, handleStat, UNKNOWN_SESSION } from './ace-api.ts';
import type { SimContext, SimSettings } from './context.ts';
import { FaultStore, noFaults, parseFaultPatch, type FaultPatch } from './faults.ts';
import { handleHealth } from './health.ts';
import { handlePlaylist, handleSegment } from './hls.ts';
import { sendAce, sendAdminError } from './http.ts';
import { silentLogger, type Logger } from './log.ts';
import { loadMedia } from './media.ts';
import { buildProfile } from './profile.ts';
import { SessionRegistry, type SessionStats } from './sessions.ts';
import { Timeline } from './timeline.ts';

export const DEFAULT_MEDIA_PATH = fileURLToPath(
  new URL('../media/testsrc-320x240-12s.mpegts', import.meta.url),
);

export interface SimulatorOptions {
  /** MPEG-TS clip the channels are made of; defaults to the one scripts/make-media.sh writes. */
  mediaPath?: string;
  /**
   * Playback bitrate; defaults to the clip's own, which plays the channel in real time. Another bitrate runs
   * the channel's clock that much faster or slower (a test mode: many loops in little time).
   */
  bitrateBps?: number;
  /** Seconds of media sent at once when playback starts (default 2). */
  burstSeconds?: number;
  /** A session nobody reads for this long ends by itself (default 60 000). */
  idleTimeoutMs?: number;
  /** Pacing period (default 25). */
  tickMs?: number;
  /** HLS segment length (default 2), in whole GOPs of the clip. */
  segmentSeconds?: number;
  /** Added to the wall clock before it is mapped to the channels' timeline (default 0; may be negative). */
  clockOffsetMs?: number;
  /** How sessions start: `default` (at once) or `field` (5-25 s of warm-up). Unknown names throw. */
  profile?: string;
  /** Seed of the profile's warm-ups (default: a random one, reported in settings). */
  seed?: number;
  p2pPort?: number | null;
  /** Process-wide fault defaults; POST /__sim/reset returns to these. */
  faults?: FaultPatch;
  log?: Logger;
}

export interface Simulator {
  readonly server: Server;
  readonly faults: FaultStore;
  readonly settings: Readonly<SimSettings>;
  /** The channels' timeline: where a content is on it, and how many loops were rendered. */
  readonly timeline: Timeline;
  stats(): SessionStats;
  /** Resolves with the bound address; `url` is `http://host:port`. */
  listen(port?: number, host?: string): Promise<{ port: number; host: string; url: string }>;
  /** Ends every session, drops every connection (hung ones too) and stops listening. */
  close(): Promise<void>;
}

const ACE_SESSION = /^\/ace\/(r|stat|cmd|m)\/([0-9a-f]{40})\/([0-9a-f]{32})(\.m3u8)?$/;
const ACE_SEGMENT = /^\/ace\/c\/([0-9a-f]{40})\/(\d+)\.ts$/;

export function buildSimulator(opts: SimulatorOptions = {}): Simulator {
  const log = opts.log ?? silentLogger;
  const mediaPath = opts.mediaPath ?? DEFAULT_MEDIA_PATH;
  const media = loadMedia(mediaPath);
  const profile = buildProfile(opts.profile ?? 'default', opts.seed ?? randomInt(2 ** 31));
  const settings: Readonly<SimSettings> = Object.freeze({
    mediaPath,
    bitrateBps: opts.bitrateBps ?? media.bitrateBps,
    burstSeconds: opts.burstSeconds ?? 2,
    idleTimeoutMs: opts.idleTimeoutMs ?? 60_000,
    tickMs: opts.tickMs ?? 25,
    segmentSeconds: opts.segmentSeconds ?? 2,
    clockOffsetMs: opts.clockOffsetMs ?? 0,
    profile: profile.name,
    seed: profile.seed,
    p2pPort: opts.p2pPort ?? null,
  });
  const timeline = new Timeline(media, settings);
  const timers = new Set<NodeJS.Timeout>();
  const sessions = new SessionRegistry({
    idleTimeoutMs: settings.idleTimeoutMs,
    historySize: 200,
    onEnd: (s) => log({ sessionId: s.id, why: s.endReason }, 'session ended'),
  });
  const faults = new FaultStore(Object.freeze({ ...noFaults, ...parseFaultPatch(opts.faults ?? {}) }));
  const ctx: SimContext = {
    settings,
    media,
    timeline,
    profile,
    faults,
    sessions,
    log,
    later(ms, fn) {
      if (ms <= 0) return fn();
      const timer = setTimeout(() => {
        timers.delete(timer);
        fn();
      }, ms);
      timers.add(timer);
    },
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://engine');
    const { pathname: path, searchParams: query } = url;
    if (path.startsWith('/__sim/')) return handleAdmin(ctx, req, res, url);
    if (path === '/ace/getstream') return handleStart(ctx, req, res, query, 'ts');
    if (path === '/ace/manifest.m3u8') return handleStart(ctx, req, res, query, 'hls');
    if (path === '/webui/api/service' || path === '/server/api')
      return handleHealth(ctx, res, query.get('method'));
    const segment = ACE_SEGMENT.exec(path);
    if (segment) {
      const active = sessions.activeFor(segment[1]!);
      if (active.length === 0) return sendAce(res, null, UNKNOWN_SESSION, 404);
      const n = Number(segment[2]);
      // A segment number past what the timeline can place (more digits than a double holds) names nothing.
      if (!Number.isSafeInteger(n)) return sendAce(res, null, 'not found', 404);
      sessions.countSegment();
      return handleSegment(ctx, res, active, n);
    }
    const match = ACE_SESSION.exec(path);
    if (!match) return sendAce(res, null, 'not found', 404);
    const [, kind, infohash, token, m3u8] = match;
    const session = sessions.find(infohash!, token!);
    if (kind === 'stat') return handleStat(ctx, res, session);
    if (kind === 'cmd') return handleCommand(ctx, res, session, query.get('method'));
    if (!session || (kind === 'm') !== (m3u8 !== undefined)) return sendAce(res, null, UNKNOWN_SESSION, 404);
    if (kind === 'm') return handlePlaylist(ctx, req, res, session);
    handlePlayback(ctx, res, session);
  };

  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      log({ err: String(err), url: req.url }, 'request failed');
      if (!res.headersSent) sendAdminError(res, 500, 'INTERNAL', String(err));
      else res.destroy();
    });
  });

  return {
    server,
    faults,
    settings,
    timeline,
    stats: () => sessions.stats(),
    listen: (port = 0, host = '127.0.0.1') =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const address = server.address() as AddressInfo;
          log({ port: address.port, host }, 'listening');
          resolve({ port: address.port, host, url: `http://${host}:${address.port}` });
        });
      }),
    close: () =>
      new Promise((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        sessions.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
