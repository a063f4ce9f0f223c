import {
  PACKET_SIZE,
  TIMESTAMP_HZ,
  decodeTimeAt,
  pidAt,
  timestampDelta,
  unitStartAt,
  payloadOffsetAt,
  type ProgramTracker,
} from '@acefleet/mpegts';

/** Longest a planned switch waits for the source it leaves to reach the new one's key frame. */
export const ALIGN_WAIT_MS = 3000;
/** Decode times further apart than this are of unrelated clocks: nothing to align to. */
export const ALIGN_RANGE_TICKS = 10 * TIMESTAMP_HZ;
/** After the video is cut, other PIDs run on to the end of their unit (a PES) for this long at most. */
const CLOSE_WAIT_MS = 300;
/** A cut not made this long after ALIGN_WAIT_MS is forced (see SourceCut.overdue). */
const FORCE_AFTER_MS = 2000;

/**
 * Where the source a planned move leaves stops. Made when the move begins, it follows the source's video
 * decode times; once armed with the new source's start point (`arm`), it cuts before the first video frame
 * at or after that key frame, provided every frame already sent is before it: two engines of one broadcast
 * send the same frames, so the players see no jump at all, and time never runs back. While the old source
 * is already past the new one's key frame, it plays on until the new one's next key frame (the splice
 * keeps its latest). With unrelated clocks, or after ALIGN_WAIT_MS, it cuts before its next video frame
 * and the jump is flagged. Every other PID then runs on to its next unit start (the end of the audio frame
 * under way), so no PID ends half-way through a unit.
 */
export class SourceCut {
  private armedAt = -1;
  private target: () => number | undefined = () => undefined;
  private lastDts: number | undefined;
  private videoCut: number | undefined;
  private readonly videoPid: number;
  /** The other PIDs of the programme still running to their unit's end: the bytes it has left (or Infinity). */
  private readonly running = new Map<number, number>();

  constructor(program: ProgramTracker) {
    const map = program.map;
    this.videoPid = map?.streams.find((s) => s.kind === 'video')?.pid ?? -1;
    for (const s of map?.streams ?? []) if (s.pid !== this.videoPid) this.running.set(s.pid, Infinity);
  }

  /** The cut may happen from now on, at the decode time `target` says (the new source's latest key frame). */
  arm(target: () => number | undefined, now: number): void {
    if (this.armedAt >= 0) return;
    this.armedAt = now;
    this.target = target;
    if (this.videoPid < 0) this.videoCut = now;
  }

  get armed(): boolean {
    return this.armedAt >= 0;
  }

  /** The cut is complete: the new source may go out. */
  complete(now: number): boolean {
    return this.videoCut !== undefined && (this.running.size === 0 || now - this.videoCut >= CLOSE_WAIT_MS);
  }

  /**
   * The cut waited too long for its point: the source never got there (it sends too little to reach its next
   * frame). A source that still sends is cut at its next frame after ALIGN_WAIT_MS, on its own packets: this
   * is the last resort, and may end a frame half-way.
   */
  overdue(now: number): boolean {
    return this.armedAt >= 0 && now - this.armedAt > ALIGN_WAIT_MS + FORCE_AFTER_MS;
  }

  /** What of the leaving source's `packets` still goes to the players. */
  take(packets: readonly Buffer[], now: number): Buffer[] {
    const out: Buffer[] = [];
    for (const view of packets) {
      let run = 0;
      for (let at = 0; at + PACKET_SIZE <= view.length; at += PACKET_SIZE) {
        if (this.passes(view, at, now)) continue;
        if (at > run) out.push(view.subarray(run, at));
        run = at + PACKET_SIZE;
      }
      if (run < view.length) out.push(run === 0 ? view : view.subarray(run));
    }
    return out;
  }

  private passes(view: Buffer, at: number, now: number): boolean {
    const pid = pidAt(view, at);
    const left = this.running.get(pid);
    if (this.videoCut === undefined) {
      if (left !== undefined) this.running.set(pid, unitLeft(view, at, left));
      if (pid !== this.videoPid || !unitStartAt(view, at) || !this.reached(view, at, now)) return true;
      this.videoCut = now;
      // A PID whose unit is complete has nothing more to send.
      for (const [other, bytes] of this.running) if (bytes <= 0) this.running.delete(other);
      return false;
    }
    if (left === undefined) return false;
    if (unitStartAt(view, at)) {
      this.running.delete(pid);
      return false;
    }
    const after = unitLeft(view, at, left);
    if (after <= 0) this.running.delete(pid);
    else this.running.set(pid, after);
    return true;
  }

  /** The video frame starting at `at` is where the cut goes (else its decode time is noted). */
  private reached(view: Buffer, at: number, now: number): boolean {
    const dts = decodeTimeAt(view, at);
    const sent = this.lastDts;
    if (dts !== undefined) this.lastDts = dts;
    if (this.armedAt < 0) return false;
    const target = this.target();
    if (now - this.armedAt >= ALIGN_WAIT_MS || target === undefined || dts === undefined) return true;
    const ahead = timestampDelta(dts, target);
    if (Math.abs(ahead) > ALIGN_RANGE_TICKS || sent === undefined) return true;
    return ahead >= 0 && timestampDelta(sent, target) < 0;
  }
}

/**
 * The bytes the PES in progress on a PID has left after the packet at `at`: from its PES_packet_length at a
 * unit start (Infinity when the header leaves it open, as video's does), else `left` less this payload.
 */
function unitLeft(view: Buffer, at: number, left: number): number {
  const payload = payloadOffsetAt(view, at);
  if (payload < 0) return left;
  const bytes = at + PACKET_SIZE - payload;
  if (!unitStartAt(view, at)) return left - bytes;
  if (view[payload] !== 0 || view[payload + 1] !== 0 || view[payload + 2] !== 1) return Infinity;
  const length = (view[payload + 4]! << 8) | view[payload + 5]!;
  return length === 0 ? Infinity : length + 6 - bytes;
}
