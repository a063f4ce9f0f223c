import { AcefleetError, type ContentRef, type EndReason, type ErrorCode } from '@acefleet/contracts';
import {
  openPlaybackBody,
  startSession,
  stopSession,
  type EngineSession,
  type PlaybackBody,
} from '@acefleet/engine-client';
import { ProgramTracker, Seen } from '@acefleet/mpegts';
import type { Logger } from '@acefleet/platform';
import { openEngineHls } from '../engines/engine-hls-body.ts';
import { KEY_FRAME_SEEN } from '../fanout/fanout.ts';
import type { EngineFailure, EngineLease, EngineSource } from '../engines/engine-source.ts';
import { PacketAligner } from '../fanout/ts-packets.ts';

/** What an HLS playlist starts with: an engine that answers one where MPEG-TS was asked fails at once. */
const PLAYLIST_MAGIC = Buffer.from('#EXTM3U');

/** A body that has not locked onto MPEG-TS within this many bytes is not MPEG-TS. */
export const MEDIA_PROBE_BYTES = 64 * 1024;

export interface AttachmentSettings {
  engineStartTimeoutMs: number;
  firstByteTimeoutMs: number;
  emptyTimeoutMs: number;
  /**
   * Silence after media (below emptyTimeoutMs), or a video or audio stream that stops while the rest flows,
   * that counts as a stall another engine may cure; 0: off.
   */
  stallFailoverMs: number;
  engineCallTimeoutMs: number;
  /** Ask the engine for HLS and read its segments as the media body (engines that only serve HLS). */
  hlsFromEngine: boolean;
}

/** Why an upstream stopped feeding its stream; `error` is what waiting players are told. */
export interface Loss {
  reason: EndReason;
  error: AcefleetError;
}

export interface AttachmentHandlers {
  /** Whole TS packets (possibly none yet), as views in order, from `rawBytes` bytes read off the engine. */
  onData: (packets: readonly Buffer[], rawBytes: number) => void;
  /** The first whole TS packet, `seconds` after the engine's start call. */
  onFirstMedia: (seconds: number) => void;
  /** An engine was claimed: from now on the stream has an engine to report. */
  onClaimed: (engineId: string) => void;
  /** The open media body failed: ended, broke, timed out, or was given up (drain). Called once. */
  onLost: (loss: Loss) => void;
  /**
   * Media stopped for stallFailoverMs while the body stays open (a stall, or noise that is not MPEG-TS:
   * `empty_timeout`), or only its video or its audio did (`video_frozen`, `audio_frozen`). Called once per
   * stall; the body stays open and may resume, until emptyTimeoutMs of silence ends it.
   */
  onStalled: (loss: Loss) => void;
}

/** Media came this recently: the stream flows, so a kind of media missing from it is frozen. */
const FLOWING_MS = 1000;
/**
 * A kind of media is frozen only after this long at least, whatever STALL_FAILOVER_MS says: muxers send
 * audio in bursts a few hundred ms apart, so a shorter gap of one kind is how a healthy stream looks.
 */
const MIN_FROZEN_MS = 2000;

/**
 * Video that flows with no key frame this long cannot be started by any player (nor cut into HLS): the
 * engine fails the stream (bad_media), which moves to another engine or ends.
 */
export const NO_KEY_FRAME_MS = 10_000;

/** What stopped: all media, or one kind of it while the rest flows. */
type Stall = 'empty_timeout' | 'video_frozen' | 'audio_frozen';

function errorCodeOf(reason: EndReason): ErrorCode {
  if (reason === 'bad_media') return 'bad_media';
  if (reason === 'video_frozen' || reason === 'audio_frozen') return 'engine_error';
  return reason === 'first_byte_timeout' || reason === 'empty_timeout' ? 'engine_timeout' : 'engine_error';
}

/** Why a start failed: a timeout while opening the media counts as a first-byte timeout. */
export function startFailureReason(error: AcefleetError, phase: 'start' | 'playback'): EndReason {
  if (error.code === 'content_unavailable') return 'content_unavailable';
  if (error.code !== 'engine_timeout') return 'engine_error';
  return phase === 'playback' ? 'first_byte_timeout' : 'engine_timeout';
}

/**
 * One attempt to play a content on one engine: the claim, the engine session and the media body, owned
 * together and released together. A stream that fails over throws its upstream away and opens another.
 */
export class EngineAttachment {
  /** The claim; replaced in place when the stream re-claims the same engine (replaceClaim). */
  private claim: EngineLease | undefined;
  private engineSession: EngineSession | undefined;
  private opened = false;
  /** The engine's programme (PAT, PMT, video and audio PIDs), read as its packets go into the ring. */
  readonly program = new ProgramTracker();
  private body: PlaybackBody | undefined;
  private readonly aligner = new PacketAligner();
  private openedAt = 0;
  /** When the engine's start call was made (performance.now()). */
  private startCalledAt = 0;
  /** When the last whole TS packet arrived (0: none yet). Raw bytes that are not MPEG-TS do not count. */
  private lastMediaAt = 0;
  /** Bytes read before the first whole packet: the probe that tells MPEG-TS from anything else. */
  private probedBytes = 0;
  /** When video and audio packets last came (from the first media on; see noteMedia). */
  private lastVideoAt = 0;
  private lastAudioAt = 0;
  private lastKeyFrameAt = 0;
  /** The stall reported and not cured yet: media again (silence), or that kind of media again. */
  private stall: Stall | undefined;
  private closed = false;
  /**
   * While a hot standby is ready to take over, a stall (or a frozen picture) counts after this long,
   * whatever STALL_FAILOVER_MS says: a switch to the standby is cheap. Undefined: the settings' limits.
   */
  quickStallMs: number | undefined;

  constructor(
    private readonly content: ContentRef,
    private readonly extraParams: Record<string, string>,
    private readonly engines: EngineSource,
    private readonly settings: AttachmentSettings,
    private readonly handlers: AttachmentHandlers,
    private readonly log: Logger,
    /** A hot standby: claimed as one (placed only in free room, the first claim given up). */
    private readonly standby = false,
  ) {}

  get lease(): EngineLease | undefined {
    return this.claim;
  }

  get session(): EngineSession | undefined {
    return this.engineSession;
  }

  /** The manager lost `old` and granted `fresh` on the same engine: hold that one from now on. */
  replaceClaim(old: EngineLease, fresh: EngineLease): boolean {
    if (this.closed || this.claim !== old || fresh.engineId !== old.engineId) return false;
    this.claim = fresh;
    return true;
  }

  get engineId(): string | undefined {
    return this.claim?.engineId;
  }

  get isPlaying(): boolean {
    return this.body !== undefined;
  }

  /** When the last whole TS packet came (0: none yet). */
  get lastMediaTime(): number {
    return this.lastMediaAt;
  }

  /** A stall was reported and what stopped has not come back. */
  get isStalled(): boolean {
    return this.stall !== undefined;
  }

  /** What kinds of media the stream's last packets held (Seen bits, from `program.scan`). */
  noteMedia(seen: number, now: number): void {
    if (seen & Seen.video) this.lastVideoAt = now;
    if (seen & Seen.audio) this.lastAudioAt = now;
    if (seen & KEY_FRAME_SEEN) this.lastKeyFrameAt = now;
    if (this.stall === 'video_frozen' && seen & Seen.video) this.stall = undefined;
    if (this.stall === 'audio_frozen' && seen & Seen.audio) this.stall = undefined;
  }

  /**
   * Claim an engine (not one of `exclude`; `failed` tells the manager which engine just failed this stream),
   * start the session and open the media. Resolves with the failure, if any.
   */
  async open(
    exclude: ReadonlySet<string>,
    failed?: EngineFailure,
    claimed?: EngineLease,
  ): Promise<Loss | undefined> {
    if (this.opened) throw new Error('an engine attachment is opened once');
    this.opened = true;
    let phase: 'start' | 'playback' = 'start';
    try {
      // Closed while waiting: close() runs again to give back what arrived meanwhile.
      this.claim =
        claimed ??
        (this.standby
          ? await this.engines.acquireStandby(this.content, exclude)
          : await this.engines.acquire(this.content, exclude, { failed }));
      this.handlers.onClaimed(this.claim.engineId);
      if (this.closed) return void (await this.close());
      this.startCalledAt = performance.now();
      const { hlsFromEngine, engineStartTimeoutMs, firstByteTimeoutMs } = this.settings;
      this.engineSession = await startSession(this.claim.baseUrl, this.content, {
        timeoutMs: engineStartTimeoutMs,
        extraParams: this.extraParams,
        hls: hlsFromEngine,
      });
      if (this.closed) return void (await this.close());
      this.openedAt = Date.now();
      phase = 'playback';
      const handlers = {
        data: (bytes: Buffer) => this.onChunk(bytes),
        end: () => this.loseUnlessBadMedia('engine_eof', 'the engine ended the stream'),
        error: () => this.loseUnlessBadMedia('engine_error', 'the engine connection failed'),
      };
      const url = this.engineSession.playbackUrl;
      const body = hlsFromEngine
        ? await openEngineHls(url, this.claim.baseUrl, firstByteTimeoutMs, handlers)
        : await openPlaybackBody(url, firstByteTimeoutMs, handlers);
      if (this.closed) {
        body.destroy();
        return undefined;
      }
      this.body = body;
      return undefined;
    } catch (err) {
      const error =
        err instanceof AcefleetError ? err : new AcefleetError('internal', 'start failed', { cause: err });
      return { reason: startFailureReason(error, phase), error };
    }
  }

  /** Bytes off the engine, as a view of a reused read buffer: the aligner and the ring copy what they keep. */
  private onChunk(chunk: Buffer): void {
    if (this.lastMediaAt === 0 && this.probedBytes === 0 && chunk.subarray(0, 7).equals(PLAYLIST_MAGIC)) {
      this.probedBytes = chunk.length;
      return this.lose(
        'bad_media',
        'the engine answered an HLS playlist where MPEG-TS was asked (HLS_FROM_ENGINE=true is for engines that only serve HLS)',
      );
    }
    const packets = this.aligner.push(chunk);
    if (packets.length > 0) {
      const now = Date.now();
      if (this.lastMediaAt === 0) {
        this.handlers.onFirstMedia((performance.now() - this.startCalledAt) / 1000);
        this.lastVideoAt = this.lastAudioAt = this.lastKeyFrameAt = now;
      }
      this.lastMediaAt = now;
      if (this.stall === 'empty_timeout') this.stall = undefined;
    } else if (this.lastMediaAt === 0) this.probedBytes += chunk.length;
    this.handlers.onData(packets, chunk.length);
    if (this.lastMediaAt === 0 && this.probedBytes >= MEDIA_PROBE_BYTES) {
      this.lose('bad_media', `the engine sent ${this.probedBytes} bytes that are not MPEG-TS`);
    }
  }

  /** A body that brought bytes but never MPEG-TS failed for what it sent, not for how it ended. */
  private loseUnlessBadMedia(reason: EndReason, message: string): void {
    if (this.lastMediaAt === 0 && this.probedBytes > 0) {
      this.lose('bad_media', `the engine sent ${this.probedBytes} bytes that are not MPEG-TS`);
    } else this.lose(reason, message);
  }

  /**
   * Timeouts no event marks: the first packet, a stall, and silence. Called by the stream's watchdog. Only
   * whole TS packets count as media, so an engine sending anything else cannot keep a stream waiting; and
   * video and audio are watched each on its own (from the PMT), so a frozen picture over live sound is a
   * stall too. A programme without video (radio) is never stalled for it.
   */
  checkTimers(now: number): void {
    const { firstByteTimeoutMs, emptyTimeoutMs, stallFailoverMs } = this.settings;
    if (!this.body) return;
    const silentMs = now - this.lastMediaAt;
    if (this.lastMediaAt === 0) {
      if (now - this.openedAt <= firstByteTimeoutMs) return;
      this.loseUnlessBadMedia('first_byte_timeout', `no media from the engine in ${firstByteTimeoutMs} ms`);
    } else if (silentMs > emptyTimeoutMs) {
      this.lose('empty_timeout', `the engine sent no media for ${emptyTimeoutMs} ms`);
    } else if (
      this.program.hasVideo &&
      now - this.lastVideoAt <= FLOWING_MS &&
      now - this.lastKeyFrameAt > NO_KEY_FRAME_MS
    ) {
      this.lose('bad_media', `the engine sent video with no key frame for ${NO_KEY_FRAME_MS} ms`);
    } else if (this.stall === undefined && (stallFailoverMs > 0 || this.quickStallMs !== undefined)) {
      const quick = this.quickStallMs;
      const limitMs = quick === undefined ? stallFailoverMs : Math.min(quick, stallFailoverMs || quick);
      const stall = this.stallAt(now, limitMs, quick !== undefined);
      if (stall) this.reportStall(stall, limitMs, quick !== undefined);
    }
  }

  /** What stalled, if anything; `quick`: a standby waits, so frozen video counts at `limitMs`. */
  private stallAt(now: number, limitMs: number, quick: boolean): Stall | undefined {
    const silentMs = now - this.lastMediaAt;
    if (silentMs > limitMs) return 'empty_timeout';
    // Everything is going quiet: that is a silence, whose limit is checked above, not a freeze.
    if (silentMs > Math.min(FLOWING_MS, limitMs)) return undefined;
    // Video comes every frame, so a standby makes a short freeze of it worth a switch; audio comes in
    // bursts, whose gaps always get MIN_FROZEN_MS.
    const frozenMs = Math.max(limitMs, MIN_FROZEN_MS);
    if (this.program.hasVideo && now - this.lastVideoAt > (quick ? limitMs : frozenMs)) return 'video_frozen';
    if (this.program.hasAudio && now - this.lastAudioAt > frozenMs) return 'audio_frozen';
    return undefined;
  }

  private reportStall(stall: Stall, stallMs: number, quick: boolean): void {
    this.stall = stall;
    const exact = stall === 'empty_timeout' || (quick && stall === 'video_frozen');
    const limitMs = exact ? stallMs : Math.max(stallMs, MIN_FROZEN_MS);
    const what = { empty_timeout: 'no media', video_frozen: 'no video', audio_frozen: 'no audio' }[stall];
    const code = stall === 'empty_timeout' ? 'engine_timeout' : 'engine_error';
    const error = new AcefleetError(code, `the engine sent ${what} for ${limitMs} ms`);
    this.handlers.onStalled({ reason: stall, error });
  }

  /** Give up the open media body and report why (once). */
  lose(reason: EndReason, message: string): void {
    const body = this.body;
    if (!body) return;
    this.body = undefined;
    body.destroy();
    this.handlers.onLost({ reason, error: new AcefleetError(errorCodeOf(reason), message) });
  }

  /** Stop the engine session and give the engine back, each once (best effort; engines also expire idle sessions). */
  async close(): Promise<void> {
    this.closed = true;
    const { body, session, lease } = this;
    this.body = undefined;
    this.engineSession = undefined;
    this.claim = undefined;
    body?.destroy();
    if (session) {
      await stopSession(session, this.settings.engineCallTimeoutMs).catch((err: unknown) =>
        this.log.info(
          { err, engineId: lease?.engineId },
          'engine session not stopped; the engine expires it',
        ),
      );
    }
    // release() never rejects: the engine source retries an unreachable manager and logs a refusal.
    if (lease) await this.engines.release(lease);
  }
}
