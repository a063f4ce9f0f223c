import type { ContentRef, EndReason } from '@acefleet/contracts';
import type { Logger } from '@acefleet/platform';
import type { EngineLease, EngineSource } from '../engines/engine-source.ts';
import { Splice } from '../fanout/splice.ts';
import type { EngineAttachment } from './engine-attachment.ts';

/**
 * The engine attachments of one stream, each a claim plus an engine session (engine-attachment.ts): the one
 * it plays from (`current`), and during a move the one it is leaving, kept open until another plays (a
 * drained engine's, so its session is not seen stale; a stalled one's, which may resume first). So two
 * attachments can be open at once, the new one's packets joined onto what players already got at its first
 * key frame (splice.ts). Each attachment is opened once and closed once, here or by the stream's end.
 */
export class EngineAttachments {
  private current: EngineAttachment | undefined;
  private leavingOne: EngineAttachment | undefined;
  private splice: { from: EngineAttachment; splice: Splice } | undefined;

  constructor(private readonly log: Logger) {}

  get playing(): EngineAttachment | undefined {
    return this.current;
  }

  get leaving(): EngineAttachment | undefined {
    return this.leavingOne;
  }

  /** `next` is the one to play from now; `spliced`: players already have another engine's bytes. */
  attach(next: EngineAttachment, spliced: boolean): void {
    this.current = next;
    this.splice = spliced ? { from: next, splice: new Splice(next.program) } : undefined;
  }

  /** Packets from `from` reach the players: it is current, or the one being left (still feeding them). */
  feeds(from: EngineAttachment): boolean {
    return from === this.current || from === this.leavingOne;
  }

  /**
   * `from`'s packets as players get them: through its splice while it takes over from another. `onBreak`
   * is told when the splice opens (the first packets from the new engine go out).
   */
  spliced(
    from: EngineAttachment,
    packets: readonly Buffer[],
    now: number,
    onBreak: () => void,
  ): readonly Buffer[] {
    const splice = this.splice;
    if (splice?.from !== from) return packets;
    const opened = splice.splice.opened;
    const media = splice.splice.feed(packets, now);
    if (!opened && splice.splice.opened) onBreak();
    if (splice.splice.done) this.splice = undefined;
    return media;
  }

  /** The current one failed: it is current no more (the caller lets it go). */
  detach(): EngineAttachment | undefined {
    const from = this.current;
    this.current = undefined;
    return from;
  }

  /** Stop reading `from`: closed now, or (`keep`) kept as the one being left until the stream plays elsewhere. */
  async letGo(from: EngineAttachment | undefined, keep: boolean): Promise<void> {
    if (!keep) return from?.close();
    const previous = this.leavingOne;
    this.leavingOne = from;
    await previous?.close();
  }

  /** The one being left plays again first: it is current again; the candidate that was to replace it closes. */
  async takeBack(stalled: EngineAttachment): Promise<void> {
    const candidate = this.current;
    this.current = stalled;
    this.leavingOne = undefined;
    if (this.splice?.from !== stalled) this.splice = undefined;
    await candidate?.close();
  }

  /** Another engine plays: the one being left goes. */
  async closeLeaving(): Promise<void> {
    const leaving = this.leavingOne;
    this.leavingOne = undefined;
    await leaving?.close();
  }

  /** The stream ended: every attachment goes. */
  async closeAll(): Promise<void> {
    const current = this.detach();
    await Promise.all([current?.close(), this.closeLeaving()]);
  }

  /** Give up the current attachment if it plays on `engineId` (drained, or its session expired). */
  loseOn(engineId: string, reason: EndReason, message: string): void {
    const current = this.current;
    if (current?.engineId !== engineId || !current.isPlaying) return;
    this.log.info({ engineId, reason }, `${message}: moving the stream`);
    current.lose(reason, message);
  }

  /**
   * The manager lost the current claim (it expired while the proxy could not renew). Claim again: content
   * affinity brings the claim back to the same engine; a claim elsewhere is given back, since the stream
   * keeps playing here.
   */
  async reclaim(engines: EngineSource, content: ContentRef): Promise<void> {
    const current = this.current;
    const old = current?.lease;
    if (!current || !old) return;
    let fresh: EngineLease;
    try {
      fresh = await engines.acquire(content, new Set());
    } catch (err) {
      this.log.warn(
        { err, engineId: old.engineId },
        'claiming the engine again failed; the next renewal retries',
      );
      return;
    }
    if (fresh.engineId === old.engineId && this.current === current && current.replaceClaim(old, fresh))
      return;
    await engines.release(fresh);
  }
}
