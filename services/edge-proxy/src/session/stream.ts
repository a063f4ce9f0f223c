import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { AcefleetError, type ContentRef, type EndReason } from '@acefleet/contracts';
import { Failover } from './failover.ts';
import type { Logger } from '@acefleet/platform';
import type { StreamDeps } from './stream-deps.ts';
import type { EngineLease } from '../engines/engine-source.ts';
import type { JoinKind } from '../fanout/fanout.ts';
import type { HlsOutput } from '../hls/hls-output.ts';
import type { Release } from '../hls/hls-viewers.ts';
import { StreamReporter } from './stream-events.ts';
import { EngineAttachments } from './engine-attachments.ts';
import { move, whenEmpty, type StreamState } from './stream-lifecycle.ts';
import { EngineAttachment, type Loss } from './engine-attachment.ts';
import type { Viewer } from '../fanout/viewer.ts';
import { StreamOutputs, type EmptyReason } from './stream-outputs.ts';

export type { StreamState } from './stream-lifecycle.ts';
export type { StreamDeps, StreamSettings } from './stream-deps.ts';

/**
 * One channel (a stream key) for every player of it, MPEG-TS and HLS alike: one engine session at a time
 * (two during a move). It owns its engine attachments (engine-attachments.ts), its failover policy
 * (failover.ts), its outputs (stream-outputs.ts: the fan-out and the HLS cut from the same packets) and
 * its timers, and releases all of them on every path to `ended`. Its state changes only in `moveTo`, along
 * the table of stream-lifecycle.ts. Nothing starts before `start()`.
 */
export class Stream {
  readonly id = randomUUID();
  readonly startedAt = new Date();
  private current: StreamState = 'starting';
  private readonly outputs: StreamOutputs;
  private readonly attached: EngineAttachments;
  private lingerTimer: NodeJS.Timeout | undefined;
  private readonly failover: Failover;
  private readonly report: StreamReporter;
  /** The engine this stream last used: sessions that reached an engine are reported even if they failed. */
  private lastEngineId: string | undefined;
  /** When the last media came from the engine: a move's gap starts there. */
  private lastMediaAt = 0;
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
    this.failover = new Failover({ ...deps, log: this.log });
    const { proxyId } = deps;
    this.report = new StreamReporter(deps.events, {
      streamId: this.id,
      content,
      proxyId,
      startedAt: this.startedAt,
    });
    this.attached = new EngineAttachments(this.log);
    this.outputs = new StreamOutputs({
      ...deps,
      log: this.log,
      onViewersChanged: (left) => this.viewersChanged(left),
    });
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
    return this.outputs.fanout.viewers;
  }

  /** Players watching now: MPEG-TS connections and HLS players polling. */
  get viewerCount(): number {
    return this.outputs.viewerCount;
  }

  /** The HLS output, if any player asked for HLS. */
  get hls(): HlsOutput | undefined {
    return this.outputs.hls;
  }

  get engineId(): string | undefined {
    return this.lastEngineId;
  }

  /** The claim this stream holds on its engine (renewed by the control link). */
  get currentLease(): EngineLease | undefined {
    return this.attached.playing?.lease;
  }

  get statUrl(): string | undefined {
    return this.attached.playing?.session?.statUrl;
  }

  get bytesIn(): number {
    return this.bytesFromEngines;
  }

  get bytesOut(): number {
    return this.outputs.bytesOut;
  }

  get peakClients(): number {
    return this.outputs.peakClients;
  }

  get bufferedBytes(): number {
    return this.outputs.fanout.bufferedBytes;
  }

  /** Re-read after every await: the stream may have ended meanwhile. */
  isEnded(): boolean {
    return this.current === 'ended';
  }

  get clientCount(): number {
    return this.outputs.clientCount;
  }

  /**
   * A request of an HLS player (`viewer`: its address and user agent): it counts as watching for the
   * viewer window, holding the slot `admit` gives it (asked only for a player not counted yet). The HLS
   * output is made at the first one, from what the ring holds.
   */
  hlsRequest(viewer: string, admit: () => Release): HlsOutput {
    if (this.isEnded())
      throw new AcefleetError('stream_not_found', 'the stream has ended; reload the playlist');
    const { output, isNew } = this.outputs.hlsRequest(viewer, admit);
    if (isNew && this.current === 'lingering') {
      this.moveTo('playing', 'an HLS player came');
      this.deps.metrics.lingerHits.inc();
    }
    return output;
  }

  /** The engine is draining: move to another one now, keeping the players (as after an engine loss). */
  moveOff(engineId: string): void {
    this.attached.loseOn(engineId, 'engine_drained', 'the engine was drained');
  }

  /**
   * The engine forgot this stream's session: move to another engine, keeping the players, as after an engine
   * loss (a session the stream left behind does not count).
   */
  expireSession(engineId: string): void {
    this.attached.loseOn(engineId, 'session_expired', 'the engine no longer knows the session');
  }

  /** The manager lost this stream's claim: claim the engine again (see EngineAttachments.reclaim). */
  async reclaim(): Promise<void> {
    if (!this.isEnded()) await this.attached.reclaim(this.deps.engines, this.content);
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
    const kind = this.current === 'lingering' ? 'linger' : this.outputs.fanout.hasMedia ? 'live' : 'new';
    return this.outputs.attach(socket, requestedAt, kind, this.join);
  }

  /**
   * Timeouts that no event marks (the recovery deadline, upstream first byte, stall and silence, stuck
   * players); on the proxy's watchdog. The deadline holds even while an engine takes its time to answer.
   */
  checkTimers(now: number): void {
    const overdue = this.current === 'moving' ? this.failover.overdue(now) : undefined;
    if (overdue) return this.moveOver(overdue);
    this.attached.playing?.checkTimers(now);
    this.outputs.check(now, this.join);
  }

  /** End the stream for everyone, once: players get a clean end (or, if still waiting, the error). */
  end(reason: EndReason, error?: AcefleetError): void {
    if (this.isEnded()) return;
    this.moveTo('ended', reason);
    clearTimeout(this.lingerTimer);
    this.failover.stop();
    this.outputs.close(
      error ?? new AcefleetError('engine_error', `the stream ended (${reason})`),
      error ?? new AcefleetError('stream_not_found', `the stream ended (${reason}); reload the playlist`),
    );
    this.released = this.attached.closeAll();
    this.background('release', this.released);
    this.deps.metrics.streamsEnded.inc({ reason });
    const totals = { bytesIn: this.bytesIn, bytesOut: this.bytesOut, peakClients: this.peakClients };
    this.log.info({ reason, bytesIn: totals.bytesIn, bytesOut: totals.bytesOut }, 'stream ended');
    this.report.ended(this.lastEngineId, this.statUrl, reason, totals);
    this.deps.onEnded(this);
  }

  /** The one place the state changes: the move is checked against the lifecycle table and logged. */
  private moveTo(to: StreamState, why: string): void {
    const from = this.current;
    this.current = move(from, to);
    if (from === 'lingering') clearTimeout(this.lingerTimer);
    this.log.debug({ from, to, why }, 'stream state');
  }

  /** A player joins the fan-out: a lingering stream plays again. */
  private readonly join = (
    socket: Socket,
    requestedAt: bigint,
    kind: JoinKind,
    headSent: boolean,
  ): Viewer => {
    if (this.current === 'lingering') {
      this.moveTo('playing', 'a player joined');
      this.deps.metrics.lingerHits.inc();
    }
    return this.outputs.fanout.join(socket, requestedAt, kind, headSent);
  };

  /** Players came or went (`left`: how the last one went). */
  private viewersChanged(left?: EmptyReason): void {
    this.deps.onViewersChanged?.(this);
    if (left) this.checkEmpty(left);
  }

  /** Nobody is left: end, linger or wait, as the lifecycle says. */
  private checkEmpty(why: EmptyReason = 'client_disconnected'): void {
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
    const next: EngineAttachment = new EngineAttachment(
      this.content,
      this.extraParams,
      this.deps.engines,
      this.deps.settings,
      {
        onClaimed: (engineId) => (this.lastEngineId = engineId),
        onFirstMedia: (seconds) => this.deps.metrics.engineStartSeconds.observe(seconds),
        onData: (packets, rawBytes) => this.onData(next, packets, rawBytes),
        onLost: (loss) => {
          if (this.attached.playing !== next) return;
          this.log.warn({ reason: loss.reason, engineId: next.engineId }, 'upstream lost');
          this.background('failover', this.failOver(loss));
        },
        onStalled: (loss) => {
          if (this.attached.playing !== next || this.current !== 'playing') return;
          this.log.warn({ engineId: next.engineId }, 'upstream stalled: looking for another engine');
          this.background('failover', this.failOver(loss, true));
        },
      },
      this.log,
    );
    // Players already have another engine's bytes: this one's join them at a key frame, flagged.
    this.attached.attach(next, this.outputs.fanout.hasMedia);
    const { failures } = this.failover;
    const failure = await next.open(failures.excluded, failures.last);
    // Ended, or replaced meanwhile (the stalled engine it was to replace resumed).
    if (this.isEnded() || this.attached.playing !== next) return next.close();
    if (failure) {
      this.log.warn({ err: failure.error.message, code: failure.error.code }, 'upstream start failed');
      return this.failOver(failure);
    }
    this.log.info({ engineId: next.engineId }, 'upstream open');
  }

  private onData(from: EngineAttachment, packets: readonly Buffer[], rawBytes: number): void {
    this.bytesFromEngines += rawBytes;
    this.deps.metrics.bytesIn.inc(rawBytes);
    if (packets.length === 0 || this.isEnded() || !this.attached.feeds(from)) return;
    const now = Date.now();
    // HLS players see the break as EXT-X-DISCONTINUITY before the first segment from the new engine.
    const media = this.attached.spliced(from, packets, now, () => this.outputs.discontinuity());
    if (media.length === 0) return;
    from.noteMedia(this.outputs.push(media, now, from.program), now);
    if (from === this.attached.leaving) {
      // A stalled engine that still sends (the sound under a frozen picture) feeds the players until
      // another engine does; once what stopped comes back, the stream stays on it.
      if (from.isStalled) return;
      this.takeBack(from);
    }
    this.lastMediaAt = now;
    if (this.current === 'starting' || this.current === 'moving') this.onPlaying(now);
    this.outputs.admitIfReady(now, this.join);
  }

  private onPlaying(now: number): void {
    const moved = this.current === 'moving';
    this.moveTo('playing', moved ? 'media from another engine' : 'first media');
    this.outputs.fanout.flush(now);
    // Players first: their first bytes go out before the events are published.
    this.outputs.admitIfReady(now, this.join);
    if (moved) {
      // Tell the fleet where the stream is now, then let the engine it left go.
      const { engineId } = this;
      this.failover.completed(engineId ? this.report.identity(engineId) : undefined, this.statUrl);
      this.background('release drained engine', this.attached.closeLeaving());
    } else this.failover.started();
    this.report.started(this.lastEngineId, this.statUrl);
    this.checkEmpty();
  }

  /** The stalled engine the stream was leaving sends media again first: stay on it, stop looking elsewhere. */
  private takeBack(stalled: EngineAttachment): void {
    this.failover.stayed();
    this.lastEngineId = stalled.engineId;
    if (this.current === 'moving') this.moveTo('playing', 'staying on the stalled engine');
    this.log.info({ engineId: stalled.engineId }, 'staying on the stalled engine');
    this.background('release candidate engine', this.attached.takeBack(stalled));
  }

  /**
   * The engine failed us, or stalled (`stalled`: its body stays open as `leaving` and may still resume). While
   * players wait for a start, or are attached to a stream that was playing, and the failover policy allows,
   * start the same content on another engine (the same connections are kept); otherwise end the stream.
   */
  private async failOver(loss: Loss, stalled = false): Promise<void> {
    if (this.isEnded()) return;
    const from = this.attached.detach();
    const engineId = from?.engineId;
    if (this.current === 'playing') {
      this.moveTo('moving', stalled ? 'stalled' : loss.reason);
      this.failover.beginMove(loss, engineId, stalled, this.lastMediaAt);
    }
    await this.attached.letGo(from, stalled || loss.reason === 'engine_drained');
    // Ended meanwhile, or the stalled engine resumed and the stream stays on it.
    if (this.isEnded() || this.attached.playing) return;
    const lost = {
      state: this.current,
      loss,
      engineId,
      waiters: this.outputs.waiters,
      viewers: this.outputs.viewerCount,
      startedAt: this.startedAt.getTime(),
    };
    // The retry is cancelled by end() and takeBack(): a stream that ended or stays claims nothing.
    const retrying = this.failover.lost(lost, () => this.background('connect', this.connect()));
    if (!retrying) this.giveUp(this.failover.causeOr(loss));
  }

  /**
   * No engine took over in time. A frozen picture over live sound (or the reverse) is better than nothing:
   * the stream stays on the engine it was leaving. Any other loss ends it.
   */
  private moveOver(loss: Loss): void {
    const leaving = this.attached.leaving;
    const frozen = loss.reason === 'video_frozen' || loss.reason === 'audio_frozen';
    if (!frozen || !leaving?.isPlaying) return this.giveUp(loss);
    this.failover.failed();
    this.log.warn({ engineId: leaving.engineId, reason: loss.reason }, 'no engine took over: staying on it');
    this.takeBack(leaving);
  }

  /** No engine took over in time, or none may be tried: the stream ends for the loss that started it. */
  private giveUp(cause: Loss): void {
    if (this.current === 'moving') this.failover.failed();
    this.end(cause.reason, cause.error);
  }

  /** Background work of this stream: a failure is logged here, never left unhandled. */
  private background(what: string, work: Promise<void>): void {
    work.catch((err: unknown) => this.log.error({ err, what }, 'stream background work failed'));
  }
}
