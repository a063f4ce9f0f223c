import { AcefleetError, type ContentRef } from '@acefleet/contracts';
import { rewriteToBase, startSession, stopSession, type EngineSession } from '@acefleet/engine-client';
import type { EngineFailures } from './engine-failures.ts';
import type { EngineLease, EngineSource } from './engine-source.ts';
import { startFailureReason, type Loss } from './upstream.ts';

export interface HlsUpstreamSettings {
  engineStartTimeoutMs: number;
  firstByteTimeoutMs: number;
  engineCallTimeoutMs: number;
}

/** An engine failed an HLS session: why, and which engine (when known; none when none could be claimed). */
export class HlsLoss extends Error {
  override readonly name = 'HlsLoss';
  constructor(
    readonly loss: Loss,
    readonly engineId?: string,
  ) {
    super(loss.error.message, { cause: loss.error });
  }
}

function startLoss(err: unknown): Loss {
  const error =
    err instanceof AcefleetError ? err : new AcefleetError('internal', 'start failed', { cause: err });
  return { reason: startFailureReason(error, 'start'), error };
}

/** Read a URL of the engine; every failure becomes the loss it means for the session. */
async function engineGet(url: string, timeoutMs: number, what: string, first: boolean): Promise<Response> {
  const timeoutReason = first ? 'first_byte_timeout' : 'engine_timeout';
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (cause) {
    const timedOut = cause instanceof DOMException && cause.name === 'TimeoutError';
    const error = timedOut
      ? new AcefleetError('engine_timeout', `${what}: no answer in ${timeoutMs} ms`, { cause })
      : new AcefleetError('engine_error', `${what}: engine unreachable`, { cause });
    throw new HlsLoss({ reason: timedOut ? timeoutReason : 'engine_error', error });
  }
  if (!res.ok) {
    await res.body?.cancel();
    const error = new AcefleetError(
      'engine_error',
      `the engine answered the ${what} with HTTP ${res.status}`,
    );
    throw new HlsLoss({ reason: 'engine_error', error });
  }
  return res;
}

/**
 * One HLS session on one engine: the claim and the engine session, opened and closed together. It is open
 * once the engine served its first playlist (kept for the first poll); a session that moves opens another.
 */
export class HlsUpstream {
  private firstPlaylist: string | undefined;
  private closed = false;

  private constructor(
    readonly lease: EngineLease,
    readonly session: EngineSession,
    private readonly engines: EngineSource,
    private readonly settings: HlsUpstreamSettings,
  ) {}

  get engineId(): string {
    return this.lease.engineId;
  }

  /** Claim an engine (none that failed this session), start the session and read its first playlist. */
  static async open(
    engines: EngineSource,
    content: ContentRef,
    extraParams: Record<string, string>,
    settings: HlsUpstreamSettings,
    failures: EngineFailures,
  ): Promise<HlsUpstream> {
    let lease: EngineLease;
    try {
      lease = await engines.acquire(content, failures.excluded, failures.last);
    } catch (err) {
      throw new HlsLoss(startLoss(err));
    }
    let session: EngineSession | undefined;
    try {
      session = await startSession(lease.baseUrl, content, {
        timeoutMs: settings.engineStartTimeoutMs,
        extraParams,
        hls: true,
      });
      const upstream = new HlsUpstream(lease, session, engines, settings);
      upstream.firstPlaylist = await upstream.readPlaylist(true);
      return upstream;
    } catch (err) {
      const loss = err instanceof HlsLoss ? err.loss : startLoss(err);
      if (session) await stopSession(session, settings.engineCallTimeoutMs).catch(() => {});
      await engines.release(lease).catch(() => {});
      throw new HlsLoss(loss, lease.engineId);
    }
  }

  /** The engine's playlist, segment URIs made absolute on the engine's base URL. Throws an HlsLoss. */
  async playlist(): Promise<string> {
    const first = this.firstPlaylist;
    this.firstPlaylist = undefined;
    return first ?? this.readPlaylist(false);
  }

  private async readPlaylist(first: boolean): Promise<string> {
    const { firstByteTimeoutMs, engineCallTimeoutMs } = this.settings;
    const url = this.session.playbackUrl;
    const res = await engineGet(url, first ? firstByteTimeoutMs : engineCallTimeoutMs, 'playlist', first);
    return (await res.text())
      .split('\n')
      .map((line) => {
        const trimmed = line.trim();
        if (trimmed === '' || trimmed.startsWith('#')) return line;
        return rewriteToBase(new URL(trimmed, url).toString(), this.lease.baseUrl);
      })
      .join('\n');
  }

  /** One segment's bytes. Throws an HlsLoss. */
  async segment(engineUrl: string): Promise<Buffer> {
    const res = await engineGet(engineUrl, this.settings.engineCallTimeoutMs, 'segment', false);
    return Buffer.from(await res.arrayBuffer());
  }

  /** Stop the engine session and give the engine back, once (best effort: engines expire idle sessions). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await stopSession(this.session, this.settings.engineCallTimeoutMs).catch(() => {});
    await this.engines.release(this.lease).catch(() => {});
  }
}
