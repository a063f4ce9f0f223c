import type { Logger } from '@acefleet/platform';
import type { EngineLease } from '../engines/engine-source.ts';
import type { EngineAttachment } from './engine-attachment.ts';
import type { EngineAttachments } from './engine-attachments.ts';

/** A channel below HOT_STANDBY_VIEWERS keeps its standby this long (players come and go)... */
const STANDBY_KEEP_MS = 10_000;
/** ...and a standby that failed, or found no room, is tried again after this long. */
const STANDBY_RETRY_MS = 5_000;

/** What a hot standby needs of its stream. */
export interface StandbyHost {
  readonly settings: { hotStandbyViewers: number; standbyStallMs: number };
  readonly log: Logger;
  /** A new engine attachment of the channel, to be held as its standby. */
  newStandby(): EngineAttachment;
  /** Engines the stream must not use now (the failover policy's exclusions). */
  excluded(): ReadonlySet<string>;
  background(what: string, work: Promise<void>): void;
}

/**
 * HOT_STANDBY_VIEWERS: a playing channel with that many players keeps a second session open on another
 * engine, held ready from its latest key frame (engine-attachments.ts); with it ready, the playing engine's
 * stalls count after STANDBY_STALL_MS, since switching costs next to nothing. A channel that stays below
 * that many players for STANDBY_KEEP_MS gives its standby up; a standby that fails is replaced quietly.
 * Switching onto the standby is the stream's (it changes the stream's state); this keeps one there.
 */
export class HotStandby {
  /** When the channel fell below HOT_STANDBY_VIEWERS (0: it is not), and when a standby may be tried again. */
  private idleSince = 0;
  private retryAt = 0;

  constructor(
    private readonly attached: EngineAttachments,
    private readonly host: StandbyHost,
  ) {}

  /** The claim of the standby, if there is one (renewed by the control link). */
  get lease(): EngineLease | undefined {
    return this.attached.standby?.lease;
  }

  /** The engine the standby is on. */
  get engineId(): string | undefined {
    return this.attached.standby?.engineId;
  }

  /** The standby could take over now. */
  ready(now: number): boolean {
    return this.attached.standbyReady(now);
  }

  /**
   * On the stream's watchdog (`playing`: the stream plays, `watching`: how many players it has, none while
   * it lingers): open, check or give up the standby, and set the playing engine's quick stall limit.
   */
  keep(now: number, playing: boolean, watching: number): void {
    const { hotStandbyViewers, standbyStallMs } = this.host.settings;
    const on = this.attached.playing;
    if (on) on.quickStallMs = this.attached.standbyReady(now) ? standbyStallMs : undefined;
    if (hotStandbyViewers <= 0) return;
    const standby = this.attached.standby;
    if (watching < hotStandbyViewers) {
      this.idleSince ||= now;
      if (standby && now - this.idleSince >= STANDBY_KEEP_MS) this.drop('the channel has fewer players');
      return;
    }
    this.idleSince = 0;
    standby?.checkTimers(now);
    if (standby || !playing || now < this.retryAt || !on?.engineId) return;
    this.open(on.engineId, now);
  }

  /** A new channel needs the standby's engine (the fleet is full): resolves once its claim is given back. */
  async giveUp(): Promise<void> {
    const standby = this.attached.standby;
    if (!standby) return;
    this.retryAt = Date.now() + STANDBY_RETRY_MS;
    this.host.log.info({ engineId: standby.engineId }, 'hot standby given up for a new channel');
    await this.attached.dropStandby(standby);
  }

  /**
   * Give the standby up (`which`: only if it is still that one; `quiet`: an expected refusal, logged at
   * debug); another is tried later.
   */
  drop(why: string, which?: EngineAttachment, quiet = false): void {
    const standby = this.attached.standby;
    if (!standby || (which && which !== standby)) return;
    this.retryAt = Date.now() + STANDBY_RETRY_MS;
    this.host.log[quiet ? 'debug' : 'info']({ engineId: standby.engineId, why }, 'hot standby given up');
    this.host.background('drop standby', this.attached.dropStandby(standby));
  }

  private open(playingOn: string, now: number): void {
    const next = this.host.newStandby();
    this.attached.attachStandby(next);
    this.retryAt = now + STANDBY_RETRY_MS;
    const exclude = new Set([playingOn, ...this.host.excluded()]);
    const opening = next.open(exclude).then((failure) => {
      if (failure) this.drop(failure.error.message, next, failure.error.status === 503);
      else if (this.attached.standby === next)
        this.host.log.info({ engineId: next.engineId }, 'hot standby open');
    });
    this.host.background('open standby', opening);
  }
}
