import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { AcefleetError, type ContentRef, type EndReason } from '@acefleet/contracts';
import type { Logger } from '@acefleet/platform';
import type { StreamDeps } from './stream-deps.ts';
import type { EngineLease } from '../engines/engine-source.ts';
import type { JoinKind } from '../fanout/fanout.ts';
import type { HlsOutput } from '../hls/hls-output.ts';
import type { Release } from '../hls/hls-viewers.ts';
import { StreamReporter } from './stream-events.ts';
import type { Part } from './engine-attachments.ts';
import { move, whenEmpty, type StreamState } from './stream-lifecycle.ts';
import type { EngineAttachment } from './engine-attachment.ts';
import type { Viewer } from '../fanout/viewer.ts';
import { StreamOutputs, type EmptyReason } from './stream-outputs.ts';
import { StreamEngines } from './stream-engines.ts';

export type { StreamState } from './stream-lifecycle.ts';
export type { StreamDeps, StreamSettings } from './stream-deps.ts';

/**
 * One channel (a stream key) for every player of it, MPEG-TS and HLS alike: one engine session at a time
 * (two during a move, three with a hot standby). Its engine side (stream-engines.ts: attachments, failover
 * policy, standby) and its outputs (stream-outputs.ts: the fan-out and the HLS cut from the same packets)
 * hang off it, and it releases both on every path to `ended`. Its state changes only in `moveTo`, along
 * the table of stream-lifecycle.ts, whoever asks. Nothing starts before `start()`.
 */
export class Stream {
  readonly id = randomUUID();
  readonly startedAt = new Date();
  private current: StreamState = 'starting';
  private readonly outputs: StreamOutputs;
  private readonly engines: StreamEngines;
  private lingerTimer: NodeJS.Timeout | undefined;
  private readonly report: StreamReporter;
  /** When the last media went to the players: a move's gap starts there. */
  private lastMediaAt = 0;
  /** The release of the engine, from the end on (awaited by reclaimEngine). */
  private released: Promise<void> = Promise.resolve();
  private readonly log: Logger;

  constructor(
    /** Content plus output options: every player of this key shares the stream. */
    readonly key: string,
    readonly content: ContentRef,
    extraParams: Record<string, string>,
    private readonly deps: StreamDeps,
  ) {
    this.log = deps.log.child({ streamId: this.id, content: `${content.kind}:${content.value}` });
    const { proxyId } = deps;
    this.report = new StreamReporter(deps.events, {
      streamId: this.id,
      content,
      proxyId,
      startedAt: this.startedAt,
    });
    this.outputs = new StreamOutputs({
      ...deps,
      log: this.log,
      onViewersChanged: (left) => this.viewersChanged(left),
    });
    this.engines = new StreamEngines(content, extraParams, deps, this.log, {
      state: () => this.current,
      lastMediaAt: () => this.lastMediaAt,
      hasMedia: () => this.outputs.fanout.hasMedia,
      audience: () => ({ waiters: this.outputs.waiters, viewers: this.outputs.viewerCount }),
      startedAt: this.startedAt,
      moveTo: (to, why) => this.moveTo(to, why),
      end: (reason, error) => this.end(reason, error),
      deliver: (parts, from) => this.deliver(parts, from),
    });
  }

  /** Claim an engine and open the media (in the background: players wait in `attach`). */
  start(): void {
    this.background('connect', this.engines.connect());
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
    return this.engines.engineId;
  }

  /** The claim this stream holds on its engine (renewed by the control link). */
  get currentLease(): EngineLease | undefined {
    return this.engines.lease;
  }

  get statUrl(): string | undefined {
    return this.engines.statUrl;
  }

  get bytesIn(): number {
    return this.engines.bytesIn;
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

  /** The engine is draining (`until`: its deadline, ms since the epoch): move off it, make-before-break. */
  moveOff(engineId: string, until = Date.now()): void {
    this.engines.moveOff(engineId, until);
  }

  /** The engine forgot this stream's session: move to another engine, keeping the players. */
  expireSession(engineId: string): void {
    this.engines.expireSession(engineId);
  }

  /** The manager lost this stream's claim: claim the engine again. */
  async reclaim(): Promise<void> {
    if (!this.isEnded()) await this.engines.reclaim();
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
    this.engines.checkTimers(now);
    if (!this.isEnded()) this.outputs.check(now, this.join);
  }

  /** The claim of this stream's hot standby, if it has one (renewed by the control link). */
  get standbyLease(): EngineLease | undefined {
    return this.engines.standby.lease;
  }

  /** The engine the hot standby is on. */
  get standbyEngineId(): string | undefined {
    return this.engines.standby.engineId;
  }

  /** The standby could take over now. */
  get standbyReady(): boolean {
    return this.engines.standby.ready(Date.now());
  }

  /** A new channel needs the standby's engine (the fleet is full): resolves once its claim is given back. */
  giveUpStandby(): Promise<void> {
    return this.engines.standby.giveUp();
  }

  /** The manager gave the standby's claim up (for a new channel): the standby goes. */
  loseStandbyClaim(): void {
    this.engines.standby.drop('the engine manager gave its claim to a new channel');
  }

  /** End the stream for everyone, once: players get a clean end (or, if still waiting, the error). */
  end(reason: EndReason, error?: AcefleetError): void {
    if (this.isEnded()) return;
    this.moveTo('ended', reason);
    clearTimeout(this.lingerTimer);
    this.outputs.close(
      error ?? new AcefleetError('engine_error', `the stream ended (${reason})`),
      error ?? new AcefleetError('stream_not_found', `the stream ended (${reason}); reload the playlist`),
    );
    this.released = this.engines.close();
    this.background('release', this.released);
    this.deps.metrics.streamsEnded.inc({ reason });
    const totals = { bytesIn: this.bytesIn, bytesOut: this.bytesOut, peakClients: this.peakClients };
    this.log.info({ reason, bytesIn: totals.bytesIn, bytesOut: totals.bytesOut }, 'stream ended');
    this.report.ended(this.engineId, this.statUrl, reason, totals);
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
      if (part.from === this.engines.playing) fromPlaying = true;
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
    const { engineId } = this;
    if (moved) this.engines.moved(engineId ? this.report.identity(engineId) : undefined, before);
    else this.engines.started();
    this.report.started(engineId, this.statUrl);
    this.checkEmpty();
  }

  /** Background work of this stream: a failure is logged here, never left unhandled. */
  private background(what: string, work: Promise<void>): void {
    work.catch((err: unknown) => this.log.error({ err, what }, 'stream background work failed'));
  }
}
