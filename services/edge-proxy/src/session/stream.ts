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
import { EngineAttachments, type Part } from './engine-attachments.ts';
import { move, whenEmpty, type StreamState } from './stream-lifecycle.ts';
import { EngineAttachment, type Loss } from './engine-attachment.ts';
import type { Viewer } from '../fanout/viewer.ts';
import { StreamOutputs, type EmptyReason } from './stream-outputs.ts';

export type { StreamState } from './stream-lifecycle.ts';

/** A channel below HOT_STANDBY_VIEWERS keeps its standby this long (players come and go)... */
const STANDBY_KEEP_MS = 10_000;
/** ...and a standby that failed, or found no room, is tried again after this long. */
const STANDBY_RETRY_MS = 5_000;
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
  /** When the channel fell below HOT_STANDBY_VIEWERS (0: it is not), and when a standby may be tried again. */
  private standbyIdleSince = 0;
  private standbyRetryAt = 0;
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

  /**
   * The engine is draining (`until`: its deadline, ms since the epoch): move to another one, make-before-break.
   * The stream plays on from the drained engine while another is claimed and opened, and switches at the new
   * one's key frame (engine-attachments.ts), so its players see no gap. A stream not playing (starting, or
   * already moving) gives the engine up at once and moves as after a loss. A standby there is given up.
   */
  moveOff(engineId: string, until = Date.now()): void {
    if (this.attached.standby?.engineId === engineId) this.dropStandby('its engine is draining');
    const from = this.attached.playing;
    if (from?.engineId !== engineId || !from.isPlaying) return;
    if (this.current !== 'playing') {
      return this.attached.loseOn(engineId, 'engine_drained', 'the engine was drained');
    }
    this.log.info({ engineId }, 'the engine is draining: moving the stream, make-before-break');
    this.moveTo('moving', 'engine drained');
    this.failover.beginPlannedMove(engineId, until, this.lastMediaAt);
    this.attached.detach();
    this.background('leave drained engine', this.attached.letGo(from, 'planned'));
    const standby = this.attached.standby;
    if (standby && this.attached.standbyReady(Date.now())) {
      this.deps.metrics.standbySwitches.inc({ reason: 'engine_drained' });
      this.lastEngineId = standby.engineId;
      this.deliver(this.attached.promoteStandby(Date.now()), standby);
      this.background(
        'claim standby engine',
        this.attached.reclaim(this.deps.engines, this.content, { exclude: this.failover.failures.excluded }),
      );
    } else this.background('connect', this.connect());
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
    this.keepStandby(now);
    this.attached.playing?.checkTimers(now);
    this.deliver(this.attached.checkSwitch(now), this.attached.playing);
    this.outputs.check(now, this.join);
  }

  /** The claim of this stream's hot standby, if it has one (renewed by the control link). */
  get standbyLease(): EngineLease | undefined {
    return this.attached.standby?.lease;
  }

  /** The engine the hot standby is on. */
  get standbyEngineId(): string | undefined {
    return this.attached.standby?.engineId;
  }

  /** The standby could take over now. */
  get standbyReady(): boolean {
    return this.attached.standbyReady(Date.now());
  }

  /** A new channel needs the standby's engine (the fleet is full): resolves once its claim is given back. */
  async giveUpStandby(): Promise<void> {
    const standby = this.attached.standby;
    if (!standby) return;
    this.standbyRetryAt = Date.now() + STANDBY_RETRY_MS;
    this.log.info({ engineId: standby.engineId }, 'hot standby given up for a new channel');
    await this.attached.dropStandby(standby);
  }

  /** The manager gave the standby's claim up (for a new channel): the standby goes. */
  loseStandbyClaim(): void {
    this.dropStandby('the engine manager gave its claim to a new channel');
  }

  /**
   * HOT_STANDBY_VIEWERS: a playing channel with that many players keeps a second session open on another
   * engine, held ready from its latest key frame (engine-attachments.ts); with it ready, the playing engine's
   * stalls count after STANDBY_STALL_MS, since switching costs next to nothing. A channel that stays below
   * that many players for STANDBY_KEEP_MS gives its standby up; a standby that fails is replaced quietly.
   */
  private keepStandby(now: number): void {
    const { hotStandbyViewers, standbyStallMs } = this.deps.settings;
    const playing = this.attached.playing;
    if (playing) playing.quickStallMs = this.attached.standbyReady(now) ? standbyStallMs : undefined;
    if (hotStandbyViewers <= 0) return;
    const standby = this.attached.standby;
    if (this.current === 'lingering' || this.viewerCount < hotStandbyViewers) {
      this.standbyIdleSince ||= now;
      if (standby && now - this.standbyIdleSince >= STANDBY_KEEP_MS) {
        this.dropStandby('the channel has fewer players');
      }
      return;
    }
    this.standbyIdleSince = 0;
    standby?.checkTimers(now);
    const on = playing?.engineId;
    if (standby || this.current !== 'playing' || now < this.standbyRetryAt || !on) return;
    this.openStandby(on);
  }

  private openStandby(playingOn: string): void {
    const next = this.newAttachment(true);
    this.attached.attachStandby(next);
    this.standbyRetryAt = Date.now() + STANDBY_RETRY_MS;
    const exclude = new Set([playingOn, ...this.failover.failures.excluded]);
    const opening = next.open(exclude).then((failure) => {
      if (failure) this.dropStandby(failure.error.message, next, failure.error.status === 503);
      else if (this.attached.standby === next) this.log.info({ engineId: next.engineId }, 'hot standby open');
    });
    this.background('open standby', opening);
  }

  /** Give the standby up (`quiet`: an expected refusal, logged at debug); another is tried later. */
  private dropStandby(why: string, which?: EngineAttachment, quiet = false): void {
    const standby = this.attached.standby;
    if (!standby || (which && which !== standby)) return;
    this.standbyRetryAt = Date.now() + STANDBY_RETRY_MS;
    this.log[quiet ? 'debug' : 'info']({ engineId: standby.engineId, why }, 'hot standby given up');
    this.background('drop standby', this.attached.dropStandby(standby));
  }

  /**
   * The playing engine failed while a standby was ready: it takes over at once, from its latest key frame,
   * and the failed engine goes. Then the standby's claim becomes a stream's claim.
   */
  private switchToStandby(loss: Loss, stalled: boolean): void {
    const from = this.attached.detach();
    const engineId = from?.engineId;
    const standby = this.attached.standby;
    this.moveTo('moving', stalled ? 'stalled' : loss.reason);
    this.failover.beginMove(loss, engineId, stalled, this.lastMediaAt);
    if (engineId) this.failover.failures.record(engineId, loss.reason);
    this.deps.metrics.standbySwitches.inc({ reason: loss.reason });
    this.log.warn(
      { from: engineId, to: standby?.engineId, reason: loss.reason },
      'switching to the hot standby',
    );
    this.background('release failed engine', this.attached.letGo(from));
    this.lastEngineId = standby?.engineId;
    this.deliver(this.attached.promoteStandby(Date.now()), standby);
    this.background(
      'claim standby engine',
      this.attached.reclaim(this.deps.engines, this.content, { exclude: this.failover.failures.excluded }),
    );
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
    const next = this.newAttachment(false);
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

  /** An engine attachment of this stream: to play from, or (`standby`) to hold ready to take over. */
  private newAttachment(standby: boolean): EngineAttachment {
    const next: EngineAttachment = new EngineAttachment(
      this.content,
      this.extraParams,
      this.deps.engines,
      this.deps.settings,
      {
        onClaimed: (engineId) => {
          if (!standby) this.lastEngineId = engineId;
        },
        onFirstMedia: (seconds) => {
          if (!standby) this.deps.metrics.engineStartSeconds.observe(seconds);
        },
        onData: (packets, rawBytes) => this.onData(next, packets, rawBytes),
        onLost: (loss) => {
          if (this.attached.standby === next) return this.dropStandby(loss.error.message, next);
          if (this.attached.playing !== next) return;
          this.log.warn({ reason: loss.reason, engineId: next.engineId }, 'upstream lost');
          this.background('failover', this.failOver(loss));
        },
        onStalled: (loss) => {
          if (this.attached.standby === next) return this.dropStandby(loss.error.message, next);
          if (this.attached.playing !== next || this.current !== 'playing') return;
          this.log.warn({ engineId: next.engineId }, 'upstream stalled: looking for another engine');
          this.background('failover', this.failOver(loss, true));
        },
      },
      this.log,
      standby,
    );
    return next;
  }

  private onData(from: EngineAttachment, packets: readonly Buffer[], rawBytes: number): void {
    this.bytesFromEngines += rawBytes;
    this.deps.metrics.bytesIn.inc(rawBytes);
    if (packets.length === 0 || this.isEnded()) return;
    const stalledLeaving = from === this.attached.leaving && !this.attached.movingPlanned;
    this.deliver(this.attached.route(from, packets, Date.now()), from);
    // A stalled engine that still sends (the sound under a frozen picture) feeds the players until
    // another engine does; once what stopped comes back, the stream stays on it.
    if (stalledLeaving && !from.isStalled && this.attached.leaving === from) this.takeBack(from);
  }

  /**
   * Packets for the players (see EngineAttachments.route), in order: HLS players see a switch as
   * EXT-X-DISCONTINUITY before the first segment from the new engine. Media from the attachment played
   * from ends a start or a move.
   */
  private deliver(parts: Part[], from: EngineAttachment | undefined): void {
    if (parts.length === 0) return;
    const now = Date.now();
    let fromPlaying = false;
    for (const part of parts) {
      if (part.opened) this.outputs.discontinuity();
      if (part.media.length === 0) continue;
      const seen = this.outputs.push(part.media, now, part.from.program);
      if (part.from === from) part.from.noteMedia(seen, now);
      if (part.from === this.attached.playing) fromPlaying = true;
    }
    const before = this.lastMediaAt;
    this.lastMediaAt = now;
    if (fromPlaying && (this.current === 'starting' || this.current === 'moving'))
      this.onPlaying(now, before);
    this.outputs.admitIfReady(now, this.join);
  }

  /** Media from the engine played from: the start or the move is done (`before`: the previous media's time). */
  private onPlaying(now: number, before: number): void {
    const moved = this.current === 'moving';
    this.moveTo('playing', moved ? 'media from another engine' : 'first media');
    this.outputs.fanout.flush(now);
    // Players first: their first bytes go out before the events are published.
    this.outputs.admitIfReady(now, this.join);
    if (moved) {
      // Tell the fleet where the stream is now, then let the engine it left go.
      const { engineId } = this;
      this.failover.completed(engineId ? this.report.identity(engineId) : undefined, this.statUrl, before);
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
    if (this.current === 'playing' && this.attached.standbyReady(Date.now())) {
      return this.switchToStandby(loss, stalled);
    }
    const from = this.attached.detach();
    const engineId = from?.engineId;
    if (this.current === 'playing') {
      this.moveTo('moving', stalled ? 'stalled' : loss.reason);
      this.failover.beginMove(loss, engineId, stalled, this.lastMediaAt);
    }
    // A stalled engine may resume: kept open until another plays. A candidate that failed goes.
    await this.attached.letGo(from, stalled && from?.isPlaying ? 'stalled' : undefined);
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
    if (!retrying) this.moveOver(this.failover.causeOr(loss));
  }

  /**
   * No engine took over in time. A frozen picture over live sound (or the reverse) is better than nothing,
   * and a drained engine still plays until its deadline: the stream stays on the engine it was leaving. Any
   * other loss ends it.
   */
  private moveOver(loss: Loss): void {
    const leaving = this.attached.leaving;
    const frozen = loss.reason === 'video_frozen' || loss.reason === 'audio_frozen';
    if (!(frozen || this.attached.movingPlanned) || !leaving?.isPlaying) return this.giveUp(loss);
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
