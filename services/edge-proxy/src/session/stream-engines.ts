import type { AcefleetError, ContentRef, EndReason } from '@acefleet/contracts';
import type { Logger } from '@acefleet/platform';
import type { EngineLease } from '../engines/engine-source.ts';
import { EngineAttachment, type Loss } from './engine-attachment.ts';
import { EngineAttachments, type Part } from './engine-attachments.ts';
import { Failover } from './failover.ts';
import { HotStandby } from './hot-standby.ts';
import type { StreamDeps } from './stream-deps.ts';
import type { SessionIdentity } from './stream-events.ts';
import type { StreamState } from './stream-lifecycle.ts';

/** What the engine side needs of its stream: its state and the one place it changes, and its players. */
export interface StreamHost {
  state(): StreamState;
  moveTo(to: StreamState, why: string): void;
  end(reason: EndReason, error?: AcefleetError): void;
  /** Packets for the players, from the attachments `parts` name (`from`: the attachment that sent them). */
  deliver(parts: Part[], from: EngineAttachment | undefined): void;
  /** When media last went to the players (0: never): a move's gap starts there. */
  lastMediaAt(): number;
  /** The players already have media (another engine's bytes are joined at a key frame, flagged). */
  hasMedia(): boolean;
  /** Players waiting for their first bytes, and players watching (for the failover policy). */
  audience(): { waiters: number; viewers: number };
  readonly startedAt: Date;
}

/**
 * The engine side of a stream: its engine attachments (engine-attachments.ts: the one played from, one it
 * leaves, a hot standby), its failover policy (failover.ts) and its hot standby (hot-standby.ts). It opens
 * engine sessions, and answers their losses, stalls and drains with a move, a switch to the standby, a
 * take-back or the end; every state change it needs, it asks of its stream (StreamHost.moveTo), whose
 * lifecycle table checks it.
 */
export class StreamEngines {
  private readonly attached: EngineAttachments;
  private readonly failover: Failover;
  /** The second session a busy channel keeps ready (HOT_STANDBY_VIEWERS). */
  readonly standby: HotStandby;
  /** The engine the stream last used: sessions that reached an engine are reported even if they failed. */
  private lastEngineId: string | undefined;
  private bytesFromEngines = 0;

  constructor(
    private readonly content: ContentRef,
    private readonly extraParams: Record<string, string>,
    private readonly deps: StreamDeps,
    private readonly log: Logger,
    private readonly host: StreamHost,
  ) {
    this.failover = new Failover({ ...deps, log });
    this.attached = new EngineAttachments(log);
    this.standby = new HotStandby(this.attached, {
      settings: deps.settings,
      log,
      newStandby: () => this.newAttachment(true),
      excluded: () => this.failover.failures.excluded,
      background: (what, work) => this.background(what, work),
    });
  }

  /** The attachment played from. */
  get playing(): EngineAttachment | undefined {
    return this.attached.playing;
  }

  get engineId(): string | undefined {
    return this.lastEngineId;
  }

  /** The claim the stream holds on its engine (renewed by the control link). */
  get lease(): EngineLease | undefined {
    return this.attached.playing?.lease;
  }

  get statUrl(): string | undefined {
    return this.attached.playing?.session?.statUrl;
  }

  get bytesIn(): number {
    return this.bytesFromEngines;
  }

  /**
   * Get an engine (or open the one `claimed`, a claim already held) and open the media; on failure decide
   * between failover and the end.
   */
  async connect(claimed?: EngineLease): Promise<void> {
    const next = this.newAttachment(false);
    this.attached.attach(next, this.host.hasMedia());
    const { failures } = this.failover;
    const failure = await next.open(failures.excluded, failures.last, claimed);
    // Ended, or replaced meanwhile (the stalled engine it was to replace resumed).
    if (this.isEnded() || this.attached.playing !== next) return next.close();
    if (failure) {
      this.log.warn({ err: failure.error.message, code: failure.error.code }, 'upstream start failed');
      return this.failOver(failure);
    }
    this.log.info({ engineId: next.engineId }, 'upstream open');
  }

  /**
   * The engine is draining (`until`: its deadline, ms since the epoch): move to another one, make-before-break.
   * The stream plays on from the drained engine while another is claimed and opened, and switches at the new
   * one's key frame (engine-attachments.ts), so its players see no gap. A stream not playing (starting, or
   * already moving) gives the engine up at once and moves as after a loss. A standby there is given up.
   */
  moveOff(engineId: string, until: number): void {
    if (this.standby.engineId === engineId) this.standby.drop('its engine is draining');
    const from = this.attached.playing;
    if (from?.engineId !== engineId || !from.isPlaying) return;
    if (this.host.state() !== 'playing') {
      return this.attached.loseOn(engineId, 'engine_drained', 'the engine was drained');
    }
    this.plannedMove(from, engineId, until, 'drain');
  }

  /**
   * Leave `from` make-before-break (see moveOff), for the standby when it is ready, else for a new engine:
   * the one `claimed` when the caller already holds a claim there (given back when the standby takes over).
   */
  private plannedMove(
    from: EngineAttachment,
    engineId: string,
    until: number,
    reason: 'drain' | 'no_room',
    claimed?: EngineLease,
  ): void {
    const why = reason === 'drain' ? 'the engine is draining' : 'the engine has no room for its claim';
    this.log.info({ engineId }, `${why}: moving the stream, make-before-break`);
    this.host.moveTo('moving', why);
    this.failover.beginPlannedMove(engineId, until, this.host.lastMediaAt(), reason);
    this.attached.detach();
    this.background('leave drained engine', this.attached.letGo(from, 'planned'));
    if (!this.standby.ready(Date.now())) return this.background('connect', this.connect(claimed));
    this.promoteStandby(reason === 'drain' ? 'engine_drained' : reason);
    if (claimed) this.background('give back the claim', this.deps.engines.release(claimed));
  }

  /** The engine lost the session of the stream (not one it left behind): move, as after an engine loss. */
  expireSession(engineId: string): void {
    this.attached.loseOn(engineId, 'session_expired', 'the engine no longer knows the session');
  }

  /**
   * Claim the engine played from again: the manager lost the stream's claim, or (`took`) the stream switched
   * onto its standby and plays on a standby claim (see EngineAttachments.reclaim). When that engine has no
   * room left for it (the manager gave the standby's room to a new channel just as the stream switched
   * onto it), the stream moves, make-before-break, to the engine the manager placed its claim on, rather
   * than play on unclaimed. A stream still moving gives that claim back, and is claimed again at the next
   * renewal, which finds its claim lost.
   */
  async reclaim(took?: { exclude: ReadonlySet<string> }): Promise<void> {
    const from = this.attached.playing;
    const engineId = from?.engineId;
    const elsewhere = await this.attached.reclaim(this.deps.engines, this.content, took);
    if (!elsewhere) return;
    if (this.host.state() !== 'playing' || this.attached.playing !== from || !from?.isPlaying || !engineId) {
      return this.background('give back the claim', this.deps.engines.release(elsewhere));
    }
    this.plannedMove(from, engineId, Date.now(), 'no_room', elsewhere);
  }

  /**
   * On the stream's watchdog: the recovery deadline, the standby, the engine's own timers (first byte, stall,
   * silence), and a planned switch whose cut is due.
   */
  checkTimers(now: number): void {
    const state = this.host.state();
    const overdue = state === 'moving' ? this.failover.overdue(now) : undefined;
    if (overdue) return this.moveOver(overdue);
    const watching = state === 'lingering' ? 0 : this.host.audience().viewers;
    this.standby.keep(now, state === 'playing', watching);
    this.attached.playing?.checkTimers(now);
    this.host.deliver(this.attached.checkSwitch(now), this.attached.playing);
  }

  /** The first media of the stream reached its players. */
  started(): void {
    this.failover.started();
  }

  /**
   * Media from another engine reached the players: the move is done. Tell the fleet where the stream is now
   * (`identity`), then let the engine it left go (`before`: when the players got media before the move).
   */
  moved(identity: SessionIdentity | undefined, before: number): void {
    this.failover.completed(identity, this.statUrl, before);
    this.background('release drained engine', this.attached.closeLeaving());
  }

  /** The stream ended: stop retrying, and close every attachment (resolves once their claims are given back). */
  close(): Promise<void> {
    this.failover.stop();
    return this.attached.closeAll();
  }

  /** An engine attachment of the stream: to play from, or (`standby`) to hold ready to take over. */
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
          if (this.attached.standby === next) return this.standby.drop(loss.error.message, next);
          if (this.attached.playing !== next) return;
          this.log.warn({ reason: loss.reason, engineId: next.engineId }, 'upstream lost');
          this.background('failover', this.failOver(loss));
        },
        onStalled: (loss) => {
          if (this.attached.standby === next) return this.standby.drop(loss.error.message, next);
          if (this.attached.playing !== next || this.host.state() !== 'playing') return;
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
    this.host.deliver(this.attached.route(from, packets, Date.now()), from);
    // A stalled engine that still sends (the sound under a frozen picture) feeds the players until
    // another engine does; once what stopped comes back, the stream stays on it.
    if (stalledLeaving && !from.isStalled && this.attached.leaving === from) this.takeBack(from);
  }

  /**
   * The engine failed us, or stalled (`stalled`: its body stays open as `leaving` and may still resume). While
   * players wait for a start, or are attached to a stream that was playing, and the failover policy allows,
   * start the same content on another engine (the same connections are kept); otherwise end the stream.
   */
  private async failOver(loss: Loss, stalled = false): Promise<void> {
    if (this.isEnded()) return;
    if (this.host.state() === 'playing' && this.standby.ready(Date.now())) {
      return this.switchToStandby(loss, stalled);
    }
    const from = this.attached.detach();
    const engineId = from?.engineId;
    if (this.host.state() === 'playing') {
      this.host.moveTo('moving', stalled ? 'stalled' : loss.reason);
      this.failover.beginMove(loss, engineId, stalled, this.host.lastMediaAt());
    }
    // A stalled engine may resume: kept open until another plays. A candidate that failed goes.
    await this.attached.letGo(from, stalled && from?.isPlaying ? 'stalled' : undefined);
    // Ended meanwhile, or the stalled engine resumed and the stream stays on it.
    if (this.isEnded() || this.attached.playing) return;
    const startedAt = this.host.startedAt.getTime();
    const lost = { state: this.host.state(), loss, engineId, ...this.host.audience(), startedAt };
    // The retry is cancelled by close() and takeBack(): a stream that ended or stays claims nothing.
    const retrying = this.failover.lost(lost, () => this.background('connect', this.connect()));
    if (!retrying) this.moveOver(this.failover.causeOr(loss));
  }

  /**
   * The playing engine failed while a standby was ready: it takes over at once, from its latest key frame,
   * and the failed engine goes.
   */
  private switchToStandby(loss: Loss, stalled: boolean): void {
    const from = this.attached.detach();
    const engineId = from?.engineId;
    this.host.moveTo('moving', stalled ? 'stalled' : loss.reason);
    this.failover.beginMove(loss, engineId, stalled, this.host.lastMediaAt());
    if (engineId) this.failover.failures.record(engineId, loss.reason);
    const to = this.standby.engineId;
    this.log.warn({ from: engineId, to, reason: loss.reason }, 'switching to the hot standby');
    this.background('release failed engine', this.attached.letGo(from));
    this.promoteStandby(loss.reason);
  }

  /** The ready standby becomes the engine played from; its claim then becomes a stream's claim. */
  private promoteStandby(reason: string): void {
    const standby = this.attached.standby;
    this.deps.metrics.standbySwitches.inc({ reason });
    this.lastEngineId = standby?.engineId;
    this.host.deliver(this.attached.promoteStandby(Date.now()), standby);
    this.background('claim standby engine', this.reclaim({ exclude: this.failover.failures.excluded }));
  }

  /**
   * No engine took over in time. A frozen picture over live sound (or the reverse) is better than nothing,
   * and a drained engine still plays until its deadline: the stream stays on the engine it was leaving. Any
   * other loss ends it, for the loss that started it.
   */
  private moveOver(loss: Loss): void {
    const leaving = this.attached.leaving;
    const frozen = loss.reason === 'video_frozen' || loss.reason === 'audio_frozen';
    if (!(frozen || this.attached.movingPlanned) || !leaving?.isPlaying) {
      if (this.host.state() === 'moving') this.failover.failed();
      return this.host.end(loss.reason, loss.error);
    }
    this.failover.failed();
    this.log.warn({ engineId: leaving.engineId, reason: loss.reason }, 'no engine took over: staying on it');
    this.takeBack(leaving);
  }

  /** The engine the stream was leaving sends media again first: stay on it, stop looking elsewhere. */
  private takeBack(stalled: EngineAttachment): void {
    this.failover.stayed();
    this.lastEngineId = stalled.engineId;
    if (this.host.state() === 'moving') this.host.moveTo('playing', 'staying on the stalled engine');
    this.log.info({ engineId: stalled.engineId }, 'staying on the stalled engine');
    this.background('release candidate engine', this.attached.takeBack(stalled));
  }

  /** Re-read after every await: the stream may have ended meanwhile. */
  private isEnded(): boolean {
    return this.host.state() === 'ended';
  }

  /** Background work of the stream's engines: a failure is logged here, never left unhandled. */
  private background(what: string, work: Promise<void>): void {
    work.catch((err: unknown) => this.log.error({ err, what }, 'stream background work failed'));
  }
}
