import type { ContentRef, EndReason } from '@acefleet/contracts';
import type { ProgramTracker } from '@acefleet/mpegts';
import type { Logger } from '@acefleet/platform';
import type { EngineLease, EngineSource } from '../engines/engine-source.ts';
import { OutputContinuity } from '../fanout/output-continuity.ts';
import { SourceCut } from '../fanout/source-cut.ts';
import { Splice } from '../fanout/splice.ts';
import type { EngineAttachment } from './engine-attachment.ts';

/** Why the stream leaves the attachment it kept open: it stalled (and may resume), or a planned move. */
export type LeaveKind = 'stalled' | 'planned';

/** Packets for the players, from one attachment (whose programme reads them); `opened`: a switch's first. */
export interface Part {
  from: EngineAttachment;
  media: Buffer[];
  opened: boolean;
}

/** A planned move's old attachment silent this long is cut at once: the new one goes out. */
const LEAVING_QUIET_MS = 500;
/** A standby whose last packet is older than this is not one to switch to. */
const STANDBY_FRESH_MS = 1000;

/**
 * The engine attachments of one stream, each a claim plus an engine session (engine-attachment.ts):
 * - the one it plays from (`playing`);
 * - during a move, the one it is leaving, kept open and feeding the players until the new one takes over:
 *   a drained engine's (a planned move: make-before-break), or a stalled one's (which may resume first);
 * - with HOT_STANDBY_VIEWERS, a standby: a second session of the channel on another engine, read and held
 *   from its latest key frame (splice.ts), ready to take over at once.
 * Every packet for the players goes through `route`, which joins a new attachment's packets onto what the
 * players got (Splice: at a key frame, flagged, counters following on), and ends a planned move's old
 * attachment cleanly (SourceCut). Each attachment is opened once and closed once, here or by the stream's end.
 */
export class EngineAttachments {
  private current: EngineAttachment | undefined;
  private leavingOne: EngineAttachment | undefined;
  private leavingKind: LeaveKind | undefined;
  private standbyOne: EngineAttachment | undefined;
  private readonly splices = new Map<EngineAttachment, Splice>();
  private cut: SourceCut | undefined;
  private readonly output = new OutputContinuity();
  /** The programme of the attachment the players' last packets came from: its tables are theirs. */
  private lastProgram: ProgramTracker | undefined;

  constructor(private readonly log: Logger) {}

  get playing(): EngineAttachment | undefined {
    return this.current;
  }

  get leaving(): EngineAttachment | undefined {
    return this.leavingOne;
  }

  /** The stream is leaving an engine by a planned move (a drain): it plays on until the new one takes over. */
  get movingPlanned(): boolean {
    return this.leavingKind === 'planned' && this.leavingOne !== undefined;
  }

  get standby(): EngineAttachment | undefined {
    return this.standbyOne;
  }

  /** The standby can take over now: it plays, is not stalled, and holds a start point of fresh packets. */
  standbyReady(now: number): boolean {
    const standby = this.standbyOne;
    const splice = standby && this.splices.get(standby);
    return (
      !!standby &&
      !!splice?.ready &&
      standby.isPlaying &&
      !standby.isStalled &&
      now - splice.lastPacketAt < STANDBY_FRESH_MS
    );
  }

  /** `next` is the one to play from now; `spliced`: players already have another engine's bytes. */
  attach(next: EngineAttachment, spliced: boolean): void {
    this.current = next;
    if (spliced) this.splices.set(next, new Splice(next.program, this.output));
  }

  /** `next` becomes the standby: its packets are held, never sent, until it takes over. */
  attachStandby(next: EngineAttachment): void {
    this.standbyOne = next;
    this.splices.set(next, new Splice(next.program, this.output));
  }

  /** Packets from `from` reach the players: it is current, or the one being left (still feeding them). */
  feeds(from: EngineAttachment): boolean {
    return from === this.current || from === this.leavingOne;
  }

  /**
   * What of `from`'s packets goes to the players now, and from which attachment: a standby's are held; a
   * new attachment's are held until its key frame, then (at once, or when the planned move's old one has
   * cut cleanly) go out behind its tables; the old one's go out until its cut.
   */
  route(from: EngineAttachment, packets: readonly Buffer[], now: number): Part[] {
    if (from === this.standbyOne) {
      from.noteMedia(this.splices.get(from)?.hold(packets, now) ?? 0, now);
      return [];
    }
    if (from === this.leavingOne) return this.fromLeaving(from, packets, now);
    if (from !== this.current) return [];
    const splice = this.splices.get(from);
    if (!splice) return this.sent(from, packets as Buffer[], false);
    if (splice.opened) {
      const media = splice.feed(packets);
      if (splice.done) this.splices.delete(from);
      return this.sent(from, media, false);
    }
    from.noteMedia(splice.hold(packets, now), now);
    if (!splice.ready) return [];
    if (this.cut && this.leavingOne?.isPlaying) {
      // Make-before-break: the old one plays on to its cut, at the new one's key frame if it can.
      this.cut.arm(() => splice.keyFrameDts, now);
      return [];
    }
    return this.switchTo(from);
  }

  /**
   * Timeouts of a planned switch: the old attachment stopped sending (or never reached its cut) while the
   * new one is ready, so the new one goes out now.
   */
  checkSwitch(now: number): Part[] {
    const current = this.current;
    const splice = current && this.splices.get(current);
    if (!current || !splice?.ready || splice.opened || !this.cut) return [];
    // The old one stopped (its body ended, or nothing came for a while), or never reached its cut.
    const old = this.leavingOne;
    const quiet = !old?.isPlaying || now - old.lastMediaTime > LEAVING_QUIET_MS;
    if (!quiet && !this.cut.overdue(now)) return [];
    return this.switchTo(current);
  }

  private fromLeaving(from: EngineAttachment, packets: readonly Buffer[], now: number): Part[] {
    const cut = this.cut;
    if (!cut) return this.sent(from, packets as Buffer[], false);
    const parts = this.sent(from, cut.take(packets, now), false);
    if (cut.complete(now) && this.current) parts.push(...this.switchTo(this.current));
    return parts;
  }

  /** The switch to `to`: its tables and what its splice held go out now. */
  private switchTo(to: EngineAttachment): Part[] {
    const splice = this.splices.get(to);
    this.cut = undefined;
    if (!splice) return [];
    const media = splice.open(this.lastProgram);
    if (splice.done) this.splices.delete(to);
    return this.sent(to, media, true);
  }

  private sent(from: EngineAttachment, media: Buffer[], opened: boolean): Part[] {
    if (media.length === 0 && !opened) return [];
    this.output.note(media);
    this.lastProgram = from.program;
    return [{ from, media, opened }];
  }

  /** The current one failed: it is current no more (the caller lets it go). */
  detach(): EngineAttachment | undefined {
    const from = this.current;
    this.current = undefined;
    return from;
  }

  /**
   * Stop reading `from`: closed now, or (`keep`) kept as the one being left until the stream plays
   * elsewhere (`planned`: it feeds the players until then; `stalled`: until another engine plays).
   */
  async letGo(from: EngineAttachment | undefined, keep?: LeaveKind): Promise<void> {
    if (!keep) return this.close(from);
    const previous = this.leavingOne;
    this.leavingOne = from;
    this.leavingKind = keep;
    this.cut = keep === 'planned' && from ? new SourceCut(from.program) : undefined;
    await this.close(previous);
  }

  /** The one being left plays again first (or a planned move gave up): it is current again; the candidate closes. */
  async takeBack(stalled: EngineAttachment): Promise<void> {
    const candidate = this.current;
    this.current = stalled;
    this.leavingOne = undefined;
    this.leavingKind = undefined;
    this.cut = undefined;
    await this.close(candidate);
  }

  /** Another engine plays: the one being left goes. */
  async closeLeaving(): Promise<void> {
    const leaving = this.leavingOne;
    this.leavingOne = undefined;
    this.leavingKind = undefined;
    this.cut = undefined;
    await this.close(leaving);
  }

  /**
   * The standby takes over: it is current from now on. Returns what goes to the players now, unless a
   * planned move waits for its old attachment's cut (the standby's key frame is then the cut's target).
   */
  promoteStandby(now: number): Part[] {
    const standby = this.standbyOne;
    if (!standby) return [];
    this.standbyOne = undefined;
    this.current = standby;
    return this.route(standby, [], now);
  }

  /** Give the standby up (it failed, the channel got quiet, or the manager needs its room). */
  async dropStandby(which?: EngineAttachment): Promise<void> {
    const standby = this.standbyOne;
    if (!standby || (which && which !== standby)) return;
    this.standbyOne = undefined;
    await this.close(standby);
  }

  /** The stream ended: every attachment goes. */
  async closeAll(): Promise<void> {
    const current = this.detach();
    await Promise.all([this.close(current), this.closeLeaving(), this.dropStandby()]);
  }

  private async close(attachment: EngineAttachment | undefined): Promise<void> {
    if (!attachment) return;
    this.splices.delete(attachment);
    await attachment.close();
  }

  /** Give up the current attachment if it plays on `engineId` (drained, or its session expired). */
  loseOn(engineId: string, reason: EndReason, message: string): void {
    const current = this.current;
    if (current?.engineId !== engineId || !current.isPlaying) return;
    this.log.info({ engineId, reason }, `${message}: moving the stream`);
    current.lose(reason, message);
  }

  /**
   * The manager lost the current claim (it expired while the proxy could not renew), or (`took`) the current
   * one plays on a standby claim since it took over, and the engines it left are excluded. Claim again,
   * asking for the engine the stream plays from (`preferEngineId`): the claim comes back to it while it has
   * room (a standby claim is then given back). Returns a claim the manager placed on another engine instead,
   * while the stream still plays from this one: it has no room for the stream any more, and the caller moves
   * there or gives the claim back (see StreamEngines.reclaim). A failed acquire is logged; the next renewal
   * retries.
   */
  async reclaim(
    engines: EngineSource,
    content: ContentRef,
    took?: { exclude: ReadonlySet<string> },
  ): Promise<EngineLease | undefined> {
    const current = this.current;
    const old = current?.lease;
    if (!current || !old) return undefined;
    let fresh: EngineLease;
    try {
      fresh = await engines.acquire(content, took?.exclude ?? new Set(), { prefer: old.engineId });
    } catch (err) {
      this.log.warn(
        { err, engineId: old.engineId },
        'claiming the engine again failed; the next renewal retries',
      );
      return undefined;
    }
    if (fresh.engineId === old.engineId && this.current === current && current.replaceClaim(old, fresh)) {
      if (took) await engines.release(old);
      return undefined;
    }
    if (fresh.engineId !== old.engineId && this.current === current) return fresh;
    await engines.release(fresh);
    return undefined;
  }
}
