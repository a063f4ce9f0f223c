import { randomUUID } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { AcefleetError, parseMessage, type ContentRef } from '@acefleet/contracts';

/** What the engine answers to a start with format=json, with every URL rewritten to the engine's address. */
export interface EngineSession {
  pid: string;
  playbackUrl: string;
  statUrl: string;
  commandUrl: string;
  infohash: string;
  playbackSessionId: string;
  bitrate: number | undefined;
}

const StartResponse = Type.Object({
  playback_url: Type.String(),
  stat_url: Type.String(),
  command_url: Type.String(),
  infohash: Type.Optional(Type.String()),
  playback_session_id: Type.Optional(Type.String()),
  bitrate: Type.Optional(Type.Number()),
});

const Envelope = Type.Object({
  response: Type.Unknown(),
  error: Type.Union([Type.String(), Type.Null()]),
});

export const EngineStat = Type.Object({
  status: Type.Optional(Type.String()),
  peers: Type.Optional(Type.Number()),
  speed_down: Type.Optional(Type.Number()),
  speed_up: Type.Optional(Type.Number()),
  speedDown: Type.Optional(Type.Number()),
  speedUp: Type.Optional(Type.Number()),
  downloaded: Type.Optional(Type.Number()),
  uploaded: Type.Optional(Type.Number()),
});
export type EngineStat = Static<typeof EngineStat>;

/** Engines report their own address, often one the caller cannot reach: keep the path, use the base's host. */
export function rewriteToBase(url: string, baseUrl: string): string {
  const target = new URL(url, baseUrl);
  const base = new URL(baseUrl);
  target.protocol = base.protocol;
  target.host = base.host;
  return target.toString();
}

async function getJson(url: string, timeoutMs: number, what: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (cause) {
    const timedOut = cause instanceof DOMException && cause.name === 'TimeoutError';
    throw new AcefleetError(
      timedOut ? 'engine_timeout' : 'engine_error',
      `${what}: ${timedOut ? `no answer in ${timeoutMs} ms` : 'engine unreachable'}`,
      { cause },
    );
  }
  try {
    return await res.json();
  } catch (cause) {
    throw new AcefleetError('engine_error', `${what}: engine answered HTTP ${res.status} without JSON`, {
      cause,
    });
  }
}

/** `/ace/*` calls answer {"response","error"}: unwrap, turning known engine errors into catalogue errors. */
async function aceCall(url: string, timeoutMs: number, what: string): Promise<unknown> {
  const body = parseMessage(Envelope, await getJson(url, timeoutMs, what), `${what} answer`);
  if (body.error !== null) {
    if (/failed to load content/i.test(body.error)) {
      throw new AcefleetError(
        'content_unavailable',
        'the engine could not load this content (offline or unknown)',
      );
    }
    if (/unknown playback session id/i.test(body.error)) {
      throw new AcefleetError('stream_not_found', `${what}: the engine no longer knows this session`);
    }
    throw new AcefleetError('engine_error', `${what}: engine said "${body.error}"`);
  }
  return body.response;
}

export interface StartOptions {
  timeoutMs: number;
  /** Player parameters passed through untouched (everything but the selector, pid and format). */
  extraParams?: Record<string, string>;
  hls?: boolean;
}

/** Start a session with a fresh pid and format=json. */
export async function startSession(
  baseUrl: string,
  content: ContentRef,
  opts: StartOptions,
): Promise<EngineSession> {
  const url = new URL(opts.hls ? '/ace/manifest.m3u8' : '/ace/getstream', baseUrl);
  for (const [k, v] of Object.entries(opts.extraParams ?? {})) url.searchParams.set(k, v);
  url.searchParams.set(content.kind, content.value);
  const pid = randomUUID();
  url.searchParams.set('pid', pid);
  url.searchParams.set('format', 'json');
  const r = parseMessage(
    StartResponse,
    await aceCall(url.toString(), opts.timeoutMs, 'start'),
    'start answer',
  );
  return {
    pid,
    playbackUrl: rewriteToBase(r.playback_url, baseUrl),
    statUrl: rewriteToBase(r.stat_url, baseUrl),
    commandUrl: rewriteToBase(r.command_url, baseUrl),
    infohash: r.infohash ?? '',
    playbackSessionId: r.playback_session_id ?? '',
    bitrate: r.bitrate,
  };
}

/** Stop a session; an engine that already forgot it counts as stopped. */
export async function stopSession(
  session: Pick<EngineSession, 'commandUrl'>,
  timeoutMs: number,
): Promise<void> {
  const url = new URL(session.commandUrl);
  url.searchParams.set('method', 'stop');
  try {
    await aceCall(url.toString(), timeoutMs, 'stop');
  } catch (err) {
    if (err instanceof AcefleetError && err.code === 'stream_not_found') return;
    throw err;
  }
}

export async function getSessionStat(statUrl: string, timeoutMs: number): Promise<EngineStat> {
  return parseMessage(EngineStat, await aceCall(statUrl, timeoutMs, 'stat'), 'stat answer');
}

/** The health probe: HTTP 200 with a JSON body from get_status. */
export async function probeStatus(baseUrl: string, timeoutMs: number): Promise<void> {
  const url = new URL('/server/api?api_version=3&method=get_status', baseUrl).toString();
  const body = await getJson(url, timeoutMs, 'get_status');
  if (typeof body !== 'object' || body === null || !('result' in body)) {
    throw new AcefleetError('engine_error', 'get_status: answer without a result');
  }
}
