import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
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

/** Engine answers are small; a misbehaving engine must not make the caller buffer without limit. */
const MAX_JSON_BYTES = 1024 * 1024;

/**
 * Kept-alive connections for the JSON calls. node:http costs about a third of the CPU fetch (undici) did per
 * small GET. Idle sockets close after 4 s (undici's default), before engines drop them under us.
 */
const agents = {
  http: new http.Agent({ keepAlive: true, timeout: 4_000 }),
  https: new https.Agent({ keepAlive: true, timeout: 4_000 }),
};

/** GET `url` and parse its body as JSON, whatever the status, all within `timeoutMs`. */
function getJson(url: string, timeoutMs: number, what: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let status: number | undefined;
    const fail = (code: 'engine_error' | 'engine_timeout', detail: string, cause?: unknown): void => {
      clearTimeout(timer);
      req.destroy();
      reject(new AcefleetError(code, `${what}: ${detail}`, { cause }));
    };
    const withoutJson = (): string => `engine answered HTTP ${status} without JSON`;
    const secure = url.startsWith('https:');
    const req = (secure ? https : http).get(url, { agent: secure ? agents.https : agents.http }, (res) => {
      status = res.statusCode;
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_JSON_BYTES) chunks.push(chunk);
        else fail('engine_error', `engine answered more than ${MAX_JSON_BYTES} bytes`);
      });
      res.on('error', (cause) => fail('engine_error', withoutJson(), cause));
      res.on('end', () => {
        clearTimeout(timer);
        try {
          resolve(JSON.parse(Buffer.concat(chunks, size).toString('utf8')));
        } catch (cause) {
          reject(new AcefleetError('engine_error', `${what}: ${withoutJson()}`, { cause }));
        }
      });
    });
    req.on('error', (cause) =>
      fail('engine_error', status === undefined ? 'engine unreachable' : withoutJson(), cause),
    );
    const timer = setTimeout(() => fail('engine_timeout', `no answer in ${timeoutMs} ms`), timeoutMs);
  });
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
