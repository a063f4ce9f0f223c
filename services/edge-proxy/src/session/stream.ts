import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { AcefleetError, type ContentRef, type EndReason } from '@acefleet/contracts';
import type { EventPublisher, Logger } from '@acefleet/platform';
import { EngineFailures } from './engine-failures.ts';
import type { EngineLease, EngineSource } from '../engines/engine-source.ts';
import { Fanout, type FanoutSettings, type JoinKind, type LeaveReason } from '../fanout/fanout.ts';
import { HlsOutput, type HlsOutputSettings } from '../hls/hls-output.ts';
import type { Release } from '../hls/hls-viewers.ts';
import type { FlushClock } from '../fanout/flush-clock.ts';
import type { ProxyMetrics } from '../metrics.ts';
import type { RingMemory } from '../fanout/ring-memory.ts';
import {
  moveReasonOf,
  publishEnded,
  publishMoved,
  publishStarted,
  type PendingMove,
  type SessionIdentity,
} from './stream-events.ts';
import { Splice } from '../fanout/splice.ts';
import { mayRetry, move, whenEmpty, type StreamState } from './stream-lifecycle.ts';
import { Upstream, type Loss, type UpstreamSettings } from './upstream.ts';
import type { Viewer } from '../fanout/viewer.ts';
import { WaitingPlayers } from '../fanout/waiting-players.ts';

export type { StreamState } from './stream-lifecycle.ts';

export interface StreamSettings extends FanoutSettings, UpstreamSettings {
  /** Longest wait before arriving bytes are flushed to players (see flushDelayMs). */
  coalesceMs: number;
  /** A player waiting for the stream's first media gets its response head after this long (waiting-players.ts). */
  waitHeadMs: number;
  lingerMs: number;
  failoverDeadlineMs: number;
  /** A failed start is tried again on another engine this many times... */
  startRetries: number;
  /** ...while its first player has waited less than this. */
  startPatienceMs: number;
  /** The HLS output the proxy cuts from the stream's packets. */
  hls: HlsOutputSettings;
}

export interface StreamDeps {
  engines: EngineSource;
  events: EventPublisher;
  metrics: ProxyMetrics;
  log: Logger;
  proxyId: string;
  settings: StreamSettings;
  /** The proxy-wide flush clock and ring memory account, shared by every stream. */
  clock: FlushClock;
  memory: RingMemory;
  onEnded: (stream: Stream) => void;
  /** Told when players join or leave (the control link publishes viewer counts from it). */
  onViewersChanged?: (stream: Stream) => void;
}

/** Pause before another engine is tried, so a failing fleet is not hammered. */
const RETRY_DELAY_MS = 200;

/**
 * One content fanned out to every player of it. Owns its upstream (see upstream.ts; replaced on failover),
 * its fan-out (players and ring, fanout.ts) and its timers, and releases all of them on every path to
 * `ended`. Its state changes only in `moveTo`, along the table of stream-lifecycle.ts. Nothing starts
 * before `start()`.
 */
export class Stream {
  readonly id = randomUUID();
  readonly startedAt = new Date();
  private current: StreamState = 'starting';
  private readonly fanout: Fanout;
  private readonly waiting: WaitingPlayers;
  /** HLS, cut from the same packets, once a player asked for it. */
  private hlsOutput: HlsOutput | undefined;
  private peak = 0;
  private upstream: Upstream | undefined;
  /** An engine taking over from another: its packets join the players' stream at its first key frame. */
  private splice: { upstream: Upstream; splice: Splice } | undefined;
  /**
   * The upstream the stream is leaving, kept until it plays elsewhere: a drained engine's (so its session is
   * not seen stale), or a stalled one's, whose body stays open: if it resumes first, the stream stays on it.
   */
  private leaving: Upstream | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private startedPublished = false;
  /** The engine this stream last used: sessions that reached an engine are reported even if they failed. */
  private lastEngineId: string | undefined;
  private recoverBy = 0;
  /** The loss that started the trouble: the stream ends for it, not for the last retry's failure. */
  private lostBy: Loss | undefined;
  private readonly failures = new EngineFailures((f) => this.deps.engines.reportFailure(f));
  /** When the last media came from the engine: a move's gap starts there. */
  private lastMediaAt = 0;
  /** Set while a playing stream looks for another engine; published as stream.moved when bytes flow again. */
  private pendingMove: PendingMove | undefined;
  private moves = 0;
  private startRetriesUsed = 0;
  private bytesFromEngines = 0;
  /** The release of the engine, from the end on (awaited by reclaimEngine). */
  private released: Promise<void> = Promise.resolve();
  private readonly log: Logger;

  constructor(
    /** Content plus output options: every player of this key shares the stream. */
    readonly key: string,
    readonly content: ContentRef,
    private readonly extraParams: Record<string, string>,
    private readonly deps: StreamDeps,
  ) {
    this.log = deps.log.child({ streamId: this.id, content: `${content.kind}:${content.value}` });
    this.fanout = new Fanout({
      settings: deps.settings,
      metrics: deps.metrics,
      log: this.log,
      memory: deps.memory,
      clock: deps.clock,
      onViewersChanged: (left) => this.viewersChanged(left),
    });
    this.waiting = new WaitingPlayers(deps.settings.waitHeadMs, () => this.checkEmpty('client_disconnected'));
  }

  /** Claim an engine and open the media (in the background: players wait in `attach`). */
  start(): void {
    this.background('connect', this.connect());
  }

  get state(): StreamState {
    return this.current;
  }

  /** The MPEG-TS players attached. */
  get viewers(): ReadonlySet<Viewer> {
    return this.fanout.viewers;
  }

  /** Players watching now: MPEG-TS connections and HLS players polling. */
  get viewerCount(): number {
    return this.fanout.viewers.size + (this.hlsOutput?.viewers.size ?? 0);
  }

  /** The HLS output, if any player asked for HLS. */
  get hls(): HlsOutput | undefined {
    return this.hlsOutput;
  }

  get engineId(): string | undefined {
    return this.lastEngineId;
  }

  /** The claim this stream holds on its engine (renewed by the control link). */
  get currentLease(): EngineLease | undefined {
    return this.upstream?.lease;
  }

  get statUrl(): string | undefined {
    return this.upstream?.session?.statUrl;
  }

  get bytesIn(): number {
    return this.bytesFromEngines;
  }

  get bytesOut(): number {
    return this.fanout.bytesOut + (this.hlsOutput?.viewers.bytesOut ?? 0);
  }

  get peakClients(): number {
    return this.peak;
  }

  get bufferedBytes(): number {
    return this.fanout.bufferedBytes;
  }

  /** Re-read after every await: the stream may have ended meanwhile. */
  isEnded(): boolean {
    return this.current === 'ended';
  }

  get clientCount(): number {
    return this.viewerCount + this.waiting.size;
  }

  /**
   * A request of an HLS player (`viewer`: its address and user agent): it counts as watching for the
   * viewer window, holding the slot `admit` gives it (asked only for a player not counted yet). The HLS
   * output is made at the first one, from what the ring holds.
   */
  hlsRequest(viewer: string, admit: () => Release): HlsOutput {
    if (this.isEnded())
      throw new AcefleetError('stream_not_found', 'the stream has ended; reload the playlist');
    const now = Date.now();
    if (!this.hlsOutput) {
      this.hlsOutput = new HlsOutput(this.deps.settings.hls, this.deps.memory);
      this.fanout.feed(this.hlsOutput.segmenter, now);
    }
    if (this.hlsOutput.viewers.touch(viewer, now, admit)) {
      if (this.current === 'lingering') {
        this.moveTo('playing', 'an HLS player came');
        this.deps.metrics.lingerHits.inc();
      }
      this.viewersChanged();
    }
    return this.hlsOutput;
  }

  /** The engine is draining: move to another one now, keeping the players (as after an engine loss). */
  moveOff(engineId: string): void {
    const upstream = this.upstream;
    if (upstream?.engineId !== engineId || !upstream.isPlaying) return;
    this.log.info({ engineId }, 'engine draining: moving the stream');
    upstream.lose('engine_drained', 'the engine was drained');
  }

  /**
   * The engine forgot this stream's session: move to another engine, keeping the players, as after an engine
   * loss (a session the stream left behind does not count).
   */
  expireSession(engineId: string): void {
    const upstream = this.upstream;
    if (upstream?.engineId !== engineId || !upstream.isPlaying) return;
    this.log.info({ engineId }, 'engine session expired: moving the stream');
    upstream.lose('session_expired', 'the engine no longer knows the session');
  }

  /**
   * The manager lost our claim (e.g. it expired while we could not renew). Claim again: content affinity
   * brings us back to the same engine; a claim elsewhere is given back, since the stream keeps playing here.
   */
  async reclaim(): Promise<void> {
    const upstream = this.upstream;
    const old = upstream?.lease;
    if (!upstream || !old || this.isEnded()) return;
    const fresh = await this.deps.engines.acquire(this.content, new Set()).catch(() => undefined);
    if (!fresh) return;
    const same = fresh.engineId === old.engineId && upstream.lease === old && this.upstream === upstream;
    if (same && !this.isEnded()) upstream.lease = fresh;
    else await this.deps.engines.release(fresh);
  }

  /**
   * A lingering stream gives its engine to a new channel (the fleet is full, or its client is at its share):
   * it ends (linger_reclaimed), and this resolves once its claim is given back.
   */
  async reclaimEngine(): Promise<void> {
    if (this.current !== 'lingering') return;
    this.end('linger_reclaimed');
    // A failed release was logged by background(); the engine is then freed by its lease's expiry.
    await this.released.catch(() => {});
  }

  /**
   * Attach a player. Resolves once it has its first bytes, or with undefined when the stream failed after
   * the player got its response head while waiting (its body was ended); rejects (nothing sent) when it
   * failed before.
   */
  attach(socket: Socket, requestedAt: bigint): Promise<Viewer | undefined> {
    if (this.isEnded()) return Promise.reject(new AcefleetError('engine_error', 'the stream has ended'));
    const kind = this.current === 'lingering' ? 'linger' : this.fanout.hasMedia ? 'live' : 'new';
    if (this.fanout.readyToJoin(Date.now())) return Promise.resolve(this.join(socket, requestedAt, kind));
    return this.waiting.add(socket, requestedAt, kind);
  }

  /**
   * Timeouts that no event marks (the recovery deadline, upstream first byte, stall and silence, stuck
   * players); on the proxy's watchdog. The deadline holds even while an engine takes its time to answer.
   */
  checkTimers(now: number): void {
    if (this.current === 'moving' && this.lostBy && now > this.recoverBy)
      return this.recoveryOver(this.lostBy);
    this.upstream?.checkTimers(now);
    this.fanout.check(now);
    if (this.hlsOutput?.viewers.prune(now)) this.viewersChanged('linger_expired');
    if (this.waiting.size > 0) {
      if (this.fanout.readyToJoin(now)) this.admitWaiting();
      else this.waiting.keepAlive();
    }
  }

  /** End the stream for everyone, once: players get a clean end (or, if still waiting, the error). */
  end(reason: EndReason, error?: AcefleetError): void {
    if (this.isEnded()) return;
    this.moveTo('ended', reason);
    clearTimeout(this.lingerTimer);
    clearTimeout(this.retryTimer);
    this.waiting.fail(error ?? new AcefleetError('engine_error', `the stream ended (${reason})`));
    this.fanout.close();
    this.hlsOutput?.close(
      error ?? new AcefleetError('stream_not_found', `the stream ended (${reason}); reload the playlist`),
    );
    this.released = this.releaseUpstream();
    this.background('release', this.released);
    this.background('release drained engine', this.closeLeaving());
    this.deps.metrics.streamsEnded.inc({ reason });
    const totals = { bytesIn: this.bytesIn, bytesOut: this.bytesOut, peakClients: this.peakClients };
    this.log.info({ reason, bytesIn: totals.bytesIn, bytesOut: totals.bytesOut }, 'stream ended');
    if (this.lastEngineId !== undefined) {
      if (!this.startedPublished) this.publishStarted();
      publishEnded(this.deps.events, this.identity(this.lastEngineId), reason, totals);
    }
    this.deps.onEnded(this);
  }

  /** The one place the state changes: the move is checked against the lifecycle table and logged. */
  private moveTo(to: StreamState, why: string): void {
    const from = this.current;
    this.current = move(from, to);
    if (from === 'lingering') clearTimeout(this.lingerTimer);
    this.log.debug({ from, to, why }, 'stream state');
  }

  private join(socket: Socket, requestedAt: bigint, kind: JoinKind, headSent = false): Viewer {
    if (this.current === 'lingering') {
      this.moveTo('playing', 'a player joined');
      this.deps.metrics.lingerHits.inc();
    }
    return this.fanout.join(socket, requestedAt, kind, headSent);
  }

  /** Players waiting for media join at the point the fanout chose (a key frame when it has one). */
  private admitWaiting(): void {
    this.waiting.admit((socket, requestedAt, kind, headSent) =>
      this.join(socket, requestedAt, kind, headSent),
    );
  }

  /** Players came or went (`left`: how the last one went; `linger_expired`: HLS players stopped polling). */
  private viewersChanged(left?: LeaveReason | 'linger_expired'): void {
    this.peak = Math.max(this.peak, this.viewerCount);
    this.deps.onViewersChanged?.(this);
    if (left) this.checkEmpty(left);
  }

  /** Nobody is left: end, linger or wait, as the lifecycle says. */
  private checkEmpty(why: LeaveReason | 'linger_expired' = 'client_disconnected'): void {
    if (this.clientCount > 0) return;
    const next = whenEmpty(this.current, this.deps.settings.lingerMs);
    if (next === 'end') this.end(why);
    else if (next === 'linger') {
      this.moveTo('lingering', why);
      this.lingerTimer = setTimeout(() => this.end('linger_expired'), this.deps.settings.lingerMs);
    }
  }

  /** Get an engine and open the media; on failure decide between failover and the end. */
  private async connect(): Promise<void> {
    const upstream: Upstream = new Upstream(
      this.content,
      this.extraParams,
      this.deps.engines,
      this.deps.settings,
      {
        onClaimed: (engineId) => (this.lastEngineId = engineId),
        onFirstMedia: (seconds) => this.deps.metrics.engineStartSeconds.observe(seconds),
        onData: (packets, rawBytes) => this.onData(upstream, packets, rawBytes),
        onLost: (loss) => {
          if (this.upstream !== upstream) return;
          this.log.warn({ reason: loss.reason, engineId: upstream.engineId }, 'upstream lost');
          this.background('failover', this.failOver(loss));
        },
        onStalled: (loss) => {
          if (this.upstream !== upstream || this.current !== 'playing') return;
          this.log.warn({ engineId: upstream.engineId }, 'upstream stalled: looking for another engine');
          this.background('failover', this.failOver(loss, true));
        },
      },
    );
    this.upstream = upstream;
    // Players already have another engine's bytes: this one's join them at a key frame, flagged.
    this.splice = this.fanout.hasMedia ? { upstream, splice: new Splice(upstream.program) } : undefined;
    const failure = await upstream.open(this.failures.excluded, this.failures.last);
    // Ended, or replaced meanwhile (the stalled engine it was to replace resumed).
    if (this.isEnded() || this.upstream !== upstream) return upstream.close();
    if (failure) {
      this.log.warn({ err: failure.error.message, code: failure.error.code }, 'upstream start failed');
      return this.failOver(failure);
    }
    this.log.info({ engineId: upstream.engineId }, 'upstream open');
  }

  private onData(from: Upstream, packets: readonly Buffer[], rawBytes: number): void {
    this.bytesFromEngines += rawBytes;
    this.deps.metrics.bytesIn.inc(rawBytes);
    if (packets.length === 0 || this.isEnded()) return;
    if (from !== this.upstream && from !== this.leaving) return;
    const now = Date.now();
    const media = this.spliced(from, packets, now);
    if (media.length === 0) return;
    from.noteMedia(this.fanout.push(media, now, from.program), now);
    if (from === this.leaving) {
      // A stalled engine that still sends (the sound under a frozen picture) feeds the players until
      // another engine does; once what stopped comes back, the stream stays on it.
      if (from.isStalled) return;
      this.takeBack(from);
    }
    this.lastMediaAt = now;
    if (this.current === 'starting' || this.current === 'moving') this.onPlaying(now);
    if (this.waiting.size > 0 && this.fanout.readyToJoin(now)) this.admitWaiting();
  }

  /** An engine's packets as players get them: through its splice while it takes over from another. */
  private spliced(from: Upstream, packets: readonly Buffer[], now: number): readonly Buffer[] {
    const splice = this.splice;
    if (splice?.upstream !== from) return packets;
    const opened = splice.splice.opened;
    const media = splice.splice.feed(packets, now);
    // HLS players see the break as EXT-X-DISCONTINUITY before the first segment from the new engine.
    if (!opened && splice.splice.opened) this.hlsOutput?.segmenter.discontinuity();
    if (splice.splice.done) this.splice = undefined;
    return media;
  }

  private onPlaying(now: number): void {
    const recovered = this.current === 'moving';
    this.moveTo('playing', recovered ? 'media from another engine' : 'first media');
    this.lostBy = undefined;
    this.fanout.flush(now);
    // Players first: their first bytes go out before the events are published.
    if (this.waiting.size > 0 && this.fanout.readyToJoin(now)) this.admitWaiting();
    if (recovered) this.completeMove();
    if (!this.startedPublished) this.publishStarted();
    this.checkEmpty();
  }

  /** Bytes flow from another engine: tell the fleet where the stream is now, then let the drained engine go. */
  private completeMove(): void {
    this.deps.metrics.failovers.inc({ result: 'ok' });
    const move = this.pendingMove;
    this.pendingMove = undefined;
    const { engineId, statUrl } = this;
    if (move && engineId && statUrl && engineId !== move.previousEngineId) {
      publishMoved(this.deps.events, this.identity(engineId), move, statUrl, ++this.moves);
      this.log.info({ from: move.previousEngineId, to: engineId, reason: move.reason }, 'stream moved');
    }
    this.background('release drained engine', this.closeLeaving());
  }

  /** The stalled engine the stream was leaving sends media again first: stay on it, stop looking elsewhere. */
  private takeBack(stalled: Upstream): void {
    clearTimeout(this.retryTimer);
    const candidate = this.upstream;
    this.upstream = stalled;
    this.leaving = undefined;
    this.pendingMove = undefined;
    this.lostBy = undefined;
    this.lastEngineId = stalled.engineId;
    if (this.current === 'moving') this.moveTo('playing', 'staying on the stalled engine');
    this.log.info({ engineId: stalled.engineId }, 'staying on the stalled engine');
    if (candidate) this.background('release candidate engine', candidate.close());
  }

  private async closeLeaving(): Promise<void> {
    const leaving = this.leaving;
    this.leaving = undefined;
    await leaving?.close();
  }

  /**
   * The engine failed us, or stalled (`stalled`: its body stays open as `leaving` and may still resume). While
   * players wait for a start, or are attached to a stream that was playing, and time is left, start the same
   * content on another engine (the same connections are kept); otherwise end the stream.
   */
  private async failOver(loss: Loss, stalled = false): Promise<void> {
    if (this.isEnded()) return;
    const from = this.upstream;
    this.upstream = undefined;
    const engineId = from?.engineId;
    if (engineId) this.failures.record(engineId, loss.reason);
    if (this.current === 'playing') this.beginRecovery(loss, engineId, stalled);
    if (this.current === 'starting') this.lostBy ??= loss;
    await this.letGo(from, stalled || loss.reason === 'engine_drained');
    // Ended meanwhile, or the stalled engine resumed and the stream stays on it.
    if (this.isEnded() || this.upstream) return;
    const { startRetries, startPatienceMs } = this.deps.settings;
    const retry = mayRetry({
      state: this.current,
      contentUnavailable: loss.reason === 'content_unavailable',
      engineFailed: engineId !== undefined,
      waiters: this.waiting.size + (this.hlsOutput?.viewers.size ?? 0),
      viewers: this.viewerCount,
      startRetriesUsed: this.startRetriesUsed,
      startRetries,
      waitedMs: Date.now() - this.startedAt.getTime(),
      startPatienceMs,
      recoverLeftMs: this.recoverBy - Date.now(),
    });
    if (!retry) return this.giveUp(this.lostBy ?? loss);
    if (this.current === 'starting') this.startRetriesUsed++;
    this.log.info({ failed: [...this.failures.excluded], state: this.current }, 'trying another engine');
    // Cancelled by end() and takeBack(): a stream that ended or stays claims nothing.
    this.retryTimer = setTimeout(() => this.background('connect', this.connect()), RETRY_DELAY_MS);
  }

  /**
   * A playing stream lost its engine: it recovers until the failover deadline, or, after a stall, until the
   * silence reaches the empty timeout (the end it would have met without looking for another engine).
   */
  private beginRecovery(loss: Loss, engineId: string | undefined, stalled: boolean): void {
    const { failoverDeadlineMs, emptyTimeoutMs } = this.deps.settings;
    this.moveTo('moving', stalled ? 'stalled' : loss.reason);
    this.recoverBy = stalled ? this.lastMediaAt + emptyTimeoutMs : Date.now() + failoverDeadlineMs;
    this.lostBy = loss;
    if (engineId) {
      const reason = moveReasonOf(loss.reason);
      this.pendingMove = { previousEngineId: engineId, reason, lastByteAt: this.lastMediaAt };
    }
  }

  /** Stop reading an upstream: closed now, or (`keep`) kept as `leaving` until the stream plays elsewhere. */
  private async letGo(from: Upstream | undefined, keep: boolean): Promise<void> {
    if (!keep) return from?.close();
    const previous = this.leaving;
    this.leaving = from;
    await previous?.close();
  }

  /**
   * No engine took over in time. A frozen picture over live sound (or the reverse) is better than nothing:
   * the stream stays on the engine it was leaving. Any other loss ends it.
   */
  private recoveryOver(loss: Loss): void {
    const leaving = this.leaving;
    const frozen = loss.reason === 'video_frozen' || loss.reason === 'audio_frozen';
    if (!frozen || !leaving?.isPlaying) return this.giveUp(loss);
    this.deps.metrics.failovers.inc({ result: 'failed' });
    this.log.warn({ engineId: leaving.engineId, reason: loss.reason }, 'no engine took over: staying on it');
    this.takeBack(leaving);
  }

  /** No engine took over in time, or none may be tried: the stream ends for the loss that started it. */
  private giveUp(cause: Loss): void {
    if (this.current === 'moving') this.deps.metrics.failovers.inc({ result: 'failed' });
    this.end(cause.reason, cause.error);
  }

  private async releaseUpstream(): Promise<void> {
    const upstream = this.upstream;
    this.upstream = undefined;
    await upstream?.close();
  }

  /** Background work of this stream: a failure is logged here, never left unhandled. */
  private background(what: string, work: Promise<void>): void {
    work.catch((err: unknown) => this.log.error({ err, what }, 'stream background work failed'));
  }

  private identity(engineId: string): SessionIdentity {
    const { proxyId } = this.deps;
    return { streamId: this.id, content: this.content, engineId, proxyId, startedAt: this.startedAt };
  }

  private publishStarted(): void {
    this.startedPublished = true;
    publishStarted(this.deps.events, this.identity(this.lastEngineId ?? 'unknown'), this.statUrl);
  }
}
