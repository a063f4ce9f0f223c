import {
  NULL_PID,
  PACKET_SIZE,
  continuityAt,
  discontinuityPacket,
  hasPayloadAt,
  pidAt,
  type ProgramTables,
} from '@acefleet/mpegts';
import type { RingBuffer } from './ring-buffer.ts';
import { flaggedTables } from './splice.ts';

/** Where a player can start decoding: a video key frame in the ring, and the PAT/PMT in force before it. */
export interface EntryPoint {
  offset: number;
  tables: ProgramTables;
}

/** Bytes a player gets before the ring's bytes from `pos` on (nothing when `prelude` is empty). */
export interface StartPoint {
  pos: number;
  prelude: Buffer | undefined;
}

/** More than any ring holds at one key frame every half second: a bound if a source marks every frame. */
const MAX_POINTS = 256;
/** How far past a jump to look for each PID's next continuity counter. */
const SCAN_PACKETS = 4096;
/**
 * A lagging player resumes at least this far behind the newest byte, so it does not land at the very edge
 * with nothing to read, and every PID has shown its next counter by then.
 */
const SKIP_MARGIN_BYTES = 64 * 1024;

/** The PAT and PMT packets, as the player must see them before a key frame: copies of the last ones sent. */
function tablesOf(tables: ProgramTables): Buffer[] {
  return [tables.pat, ...tables.pmt];
}

/**
 * The key frames of one stream's ring, oldest first, each with the tables a player needs to start there. A
 * joiner starts at one with those tables sent first (they are copies of the last ones before the key frame,
 * so every continuity counter runs on); a lagging player skipped forward lands on one too, behind packets
 * that flag the break it makes in every PID.
 */
export class EntryPoints {
  private points: EntryPoint[] = [];
  private first = 0;
  private joinPrelude: { point: EntryPoint; bytes: Buffer } | undefined;
  private skipPrelude: { point: EntryPoint; bytes: Buffer } | undefined;

  add(offset: number, tables: ProgramTables | undefined): void {
    if (!tables) return;
    this.points.push({ offset, tables });
    if (this.points.length - this.first > MAX_POINTS) this.first++;
    if (this.first > 64) {
      this.points = this.points.slice(this.first);
      this.first = 0;
    }
  }

  /** Forget the points the ring no longer holds. */
  prune(ringStart: number): void {
    while (this.first < this.points.length && this.points[this.first]!.offset < ringStart) this.first++;
  }

  /** The points at or after `offset`, oldest first. */
  from(offset: number): readonly EntryPoint[] {
    const out: EntryPoint[] = [];
    for (let i = this.first; i < this.points.length; i++)
      if (this.points[i]!.offset >= offset) out.push(this.points[i]!);
    return out;
  }

  get isEmpty(): boolean {
    return this.first >= this.points.length;
  }

  /** Where a new player starts: the first key frame at or after `from`, else the newest one before it. */
  joinAt(from: number): StartPoint | undefined {
    let point: EntryPoint | undefined;
    for (let i = this.first; i < this.points.length; i++) {
      point = this.points[i];
      if (point!.offset >= from) break;
    }
    if (!point) return undefined;
    if (this.joinPrelude?.point !== point) {
      this.joinPrelude = { point, bytes: Buffer.concat(tablesOf(point.tables)) };
    }
    return { pos: point.offset, prelude: this.joinPrelude.bytes };
  }

  /**
   * Where a lagging player resumes: the newest key frame at least SKIP_MARGIN_BYTES behind the ring's end
   * (the oldest one if none is). Its prelude flags a discontinuity on every PID: on the tables' own copies,
   * and for the other PIDs with a packet that carries no payload and the indicator, one below the counter
   * the PID goes on with.
   */
  skipTo(ring: RingBuffer): StartPoint | undefined {
    if (this.isEmpty) return undefined;
    let point = this.points[this.first]!;
    for (let i = this.points.length - 1; i > this.first; i--) {
      if (this.points[i]!.offset <= ring.end - SKIP_MARGIN_BYTES) {
        point = this.points[i]!;
        break;
      }
    }
    if (this.skipPrelude?.point !== point) {
      const tablePids = new Set(tablesOf(point.tables).map((p) => pidAt(p, 0)));
      const flags: Buffer[] = [];
      for (const [pid, cc] of nextCounters(ring, point.offset, tablePids)) {
        flags.push(discontinuityPacket(pid, cc - 1));
      }
      this.skipPrelude = { point, bytes: Buffer.concat([...flags, ...flaggedTables(point.tables)]) };
    }
    return { pos: point.offset, prelude: this.skipPrelude.bytes };
  }
}

/**
 * The continuity counter each PID (but `skip`) goes on with from `pos`: that of its first packet there, or,
 * for a PID that has not come again yet (an SDT every half second), the one after its last packet before
 * `pos` (a continuous source counts on).
 */
function nextCounters(ring: RingBuffer, pos: number, skip: ReadonlySet<number>): Map<number, number> {
  const counters = new Map<number, number>();
  const each = (
    from: number,
    until: number,
    visit: (view: Buffer, at: number, pid: number) => void,
  ): void => {
    let left = SCAN_PACKETS;
    let offset = from;
    for (const view of ring.readFrom(from)) {
      for (let at = 0; at + PACKET_SIZE <= view.length && left > 0 && offset < until; at += PACKET_SIZE) {
        left--;
        offset += PACKET_SIZE;
        const pid = pidAt(view, at);
        if (!skip.has(pid) && pid !== NULL_PID) visit(view, at, pid);
      }
    }
  };
  // A packet without payload does not advance its counter: the next one goes on from the same value.
  each(pos, Infinity, (view, at, pid) => {
    if (!counters.has(pid)) counters.set(pid, continuityAt(view, at) + (hasPayloadAt(view, at) ? 0 : 1));
  });
  const before = new Map<number, number>();
  const from = Math.max(ring.start, pos - SCAN_PACKETS * PACKET_SIZE);
  each(from - (from % PACKET_SIZE), pos, (view, at, pid) => {
    before.set(pid, continuityAt(view, at) + (hasPayloadAt(view, at) ? 1 : 0));
  });
  for (const [pid, next] of before) if (!counters.has(pid)) counters.set(pid, next);
  return counters;
}
