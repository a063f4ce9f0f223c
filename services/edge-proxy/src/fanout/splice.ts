import {
  NULL_PID,
  PACKET_SIZE,
  continuityAt,
  discontinuityPacket,
  hasPayloadAt,
  pidAt,
  withDiscontinuity,
  type ProgramTables,
  type ProgramTracker,
} from '@acefleet/mpegts';

/**
 * The PAT and PMT to send after a jump, each flagged as a deliberate break: a copy with
 * discontinuity_indicator set (or, when it has no room for it, the copy behind a packet that flags it).
 * PSI decoders look only at their tables' own packets, so the flag must be on them.
 */
export function flaggedTables(tables: ProgramTables): Buffer[] {
  const out: Buffer[] = [];
  for (const packet of [tables.pat, ...tables.pmt]) {
    const flagged = withDiscontinuity(packet, 0);
    if (flagged) out.push(flagged);
    else out.push(discontinuityPacket(pidAt(packet, 0), continuityAt(packet, 0) - 1), packet);
  }
  return out;
}

/**
 * The packet that flags a break on `pid` just before the packet at `at` (its continuity counter one below,
 * or equal when that packet has no payload: a packet without payload does not advance the counter).
 */
export function flagBefore(buf: Buffer, at: number): Buffer {
  const cc = continuityAt(buf, at);
  return discontinuityPacket(pidAt(buf, at), hasPayloadAt(buf, at) ? cc - 1 : cc);
}

/** After the splice, PIDs are flagged as they turn up for this long at most (a PID gone quiet is let be). */
const FLAG_WINDOW_PACKETS = 8192;
/** With no key frame this long after the new engine's first packets, the splice is made at a PAT. */
const KEY_FRAME_WAIT_MS = 1000;

/**
 * Joins a new engine's packets onto what the players already got from another (a failover, a move): at the
 * new engine's first key frame, behind its PAT and PMT flagged as a break, and with every other PID's first
 * packet after it flagged too, so demuxers take the jump in counters and clock as deliberate and decoders
 * start on a whole picture. Until the key frame, the new engine's packets are dropped.
 */
export class Splice {
  private openedAt = -1;
  private firstPacketAt = 0;
  private readonly seen = new Set<number>([NULL_PID]);
  private left = FLAG_WINDOW_PACKETS;

  constructor(private readonly program: ProgramTracker) {}

  /** The new engine's packets have begun to reach the players. */
  get opened(): boolean {
    return this.openedAt >= 0;
  }

  /** Every PID has been flagged (or the window passed): packets go through as they are. */
  get done(): boolean {
    return this.openedAt >= 0 && this.left <= 0;
  }

  /** What of `packets` (the new engine's, in order) goes to the players, with the splice's own packets. */
  feed(packets: readonly Buffer[], now: number): Buffer[] {
    const out: Buffer[] = [];
    for (const view of packets) {
      let from = 0;
      if (this.openedAt < 0) {
        from = this.findStart(view, now);
        if (from < 0) continue;
        const tables = this.program.currentTables!;
        for (const p of flaggedTables(tables)) this.seen.add(pidAt(p, 0));
        out.push(...flaggedTables(tables));
        this.openedAt = now;
      }
      this.flagFirsts(view, from, out);
    }
    return out;
  }

  /**
   * The offset in `view` to splice at, or -1: the first key frame once the tables are known, or a PAT when
   * the programme has no video or none came in time. The view is read packet by packet up to there, so
   * the programme follows the new engine's tables; what follows is read when it reaches the ring.
   */
  private findStart(view: Buffer, now: number): number {
    if (this.firstPacketAt === 0) this.firstPacketAt = now;
    for (let at = 0; at + PACKET_SIZE <= view.length; at += PACKET_SIZE) {
      let key = false;
      this.program.scan(view, at, at + PACKET_SIZE, () => (key = true));
      if (!this.program.currentTables) continue;
      const waited = now - this.firstPacketAt >= KEY_FRAME_WAIT_MS || !this.program.hasVideo;
      if (key || (waited && pidAt(view, at) === 0)) return key ? at : at + PACKET_SIZE;
    }
    return -1;
  }

  /** `view` from `from` into `out`, each PID's first packet after the splice behind a packet that flags it. */
  private flagFirsts(view: Buffer, from: number, out: Buffer[]): void {
    let start = from;
    for (let at = from; at + PACKET_SIZE <= view.length && this.left > 0; at += PACKET_SIZE, this.left--) {
      const pid = pidAt(view, at);
      if (this.seen.has(pid)) continue;
      this.seen.add(pid);
      if (at > start) out.push(view.subarray(start, at));
      out.push(flagBefore(view, at));
      start = at;
    }
    if (start < view.length) out.push(view.subarray(start));
  }
}
