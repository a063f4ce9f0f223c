import {
  NULL_PID,
  PACKET_SIZE,
  PAT_PID,
  TIMESTAMP_HZ,
  continuityAt,
  discontinuityPacket,
  hasPayloadAt,
  payloadOffsetAt,
  pcrAt,
  decodeTimeAt,
  pesTimestampsAt,
  setPcrAt,
  shiftPesTimestampsAt,
  pidAt,
  sectionVersionAt,
  setContinuityAt,
  setSectionVersionAt,
  timestampDelta,
  unitStartAt,
  withDiscontinuity,
  Seen,
  type ProgramTables,
  type ProgramTracker,
} from '@acefleet/mpegts';
import type { OutputContinuity } from './output-continuity.ts';
import { ALIGN_RANGE_TICKS } from './source-cut.ts';

/**
 * The PAT and PMT to send after a jump, each flagged as a deliberate break: a copy with
 * discontinuity_indicator set (or, when it has no room for it, the copy behind a packet that flags it).
 * PSI decoders look only at their tables' own packets, so the flag must be on them.
 */
export function flaggedTables(tables: ProgramTables): Buffer[] {
  const out: Buffer[] = [];
  for (const packet of [tables.pat, ...tables.pmt]) flagInto(Buffer.from(packet), out);
  return out;
}

/**
 * `packet` (one whole packet, owned by the caller) into `out` with discontinuity_indicator set: in its own
 * adaptation field when it has room, else behind an adaptation-only packet that carries the flag (with the
 * counter the packet's own follows on from: a packet without payload does not advance it).
 */
function flagInto(packet: Buffer, out: Buffer[]): void {
  const flagged = withDiscontinuity(packet, 0);
  if (flagged) return void out.push(flagged);
  const cc = continuityAt(packet, 0);
  out.push(discontinuityPacket(pidAt(packet, 0), hasPayloadAt(packet, 0) ? cc - 1 : cc), packet);
}

/** The frame duration assumed when the players' last step is not known (25 frames a second). */
const DEFAULT_FRAME_TICKS = TIMESTAMP_HZ / 25;

/** After the splice, PIDs are flagged as they turn up for this long at most (a PID gone quiet is let be). */
const FLAG_WINDOW_PACKETS = 8192;
/** With no key frame this long after the new source's first packets, the splice is made at a PAT. */
const KEY_FRAME_WAIT_MS = 1000;
/** How far into a window that starts at its PAT its tables are looked for (PAT, PMTs, maybe an SDT between). */
const HEAD_PACKETS = 8;
/** A splice holds at most this much of its source (one GOP, from its latest key frame, is far less). */
const MAX_HELD_BYTES = 16 * 1024 * 1024;

/**
 * A table's section with its version and CRC blanked: two tables that differ only there say the same.
 * Undefined when the packet starts no section.
 */
function sectionBody(packet: Buffer): string | undefined {
  const copy = Buffer.from(packet);
  if (!setSectionVersionAt(copy, 0, 0)) return undefined;
  const payload = payloadOffsetAt(copy, 0);
  const start = payload + 1 + copy[payload]!;
  const length = 3 + (((copy[start + 1]! & 0x0f) << 8) | copy[start + 2]!);
  return copy.subarray(start, start + length - 4).toString('hex');
}

/**
 * Joins a new source (another engine's session of the channel) onto what the players already got from
 * another: a failover, a planned move, a hot standby taking over.
 *
 * Before the switch (`hold`), it reads the new source and keeps what it sent from its latest key frame on
 * (a PAT for a programme without video, or when no key frame came in time), so the switch can happen at
 * once. At the switch (`open`) the players get the new source's PAT and PMT, flagged, then what was held;
 * after it (`feed`), what the source sends. On the way, the output stays one valid transport stream:
 * - every PID's first packet from the new source carries discontinuity_indicator (set in its adaptation
 *   field, or on an adaptation-only packet just before it), so demuxers take the jump in clock as deliberate;
 * - each PID starts at a unit start (a PES or section beginning): nothing half of a frame goes out;
 * - continuity counters are rewritten to follow on from the last the players got on that PID;
 * - the PAT and PMT keep the version players have when they say the same, and get the next version when
 *   they do not (new PIDs), so decoders re-read them exactly when they must.
 */
export class Splice {
  private held: Buffer[] = [];
  private heldBytes = 0;
  private firstPacketAt = 0;
  private lastPacket = 0;
  /**
   * Set once a start point is held: the key frame's decode time (undefined: a PAT start), and the tables in
   * force there (the tracker's current ones may be later: it reads all that is held).
   */
  private start: { dts: number | undefined; pts: number | undefined; tables: ProgramTables } | undefined;
  private isOpen = false;
  private readonly delta = new Uint8Array(8192);
  private readonly begun = new Uint8Array(8192);
  private readonly versionOf = new Map<number, number>();
  private rewriting = false;
  /** Ticks added to the source's timestamps (see planClock). */
  private clock = 0;
  private left = FLAG_WINDOW_PACKETS;

  constructor(
    private readonly program: ProgramTracker,
    private readonly output: OutputContinuity,
  ) {}

  /** The switch has happened: the source's packets reach the players (through `feed`). */
  get opened(): boolean {
    return this.isOpen;
  }

  /** Held from a start point on: the switch can happen now. */
  get ready(): boolean {
    return this.start !== undefined;
  }

  /** The decode time of the key frame the held window starts at. */
  get keyFrameDts(): number | undefined {
    return this.start?.dts;
  }

  /** When the source last sent a packet (0: never). */
  get lastPacketAt(): number {
    return this.lastPacket;
  }

  /**
   * Every PID went out flagged and nothing needs rewriting: the source's packets can go to the players as
   * they come.
   */
  get done(): boolean {
    return this.isOpen && !this.rewriting && this.left <= 0;
  }

  /**
   * The source's packets before the switch: read, and kept (copied) from the latest start point on. Returns
   * what they held (Seen bits, with Seen.keyFrame).
   */
  hold(packets: readonly Buffer[], now: number): number {
    if (this.firstPacketAt === 0) this.firstPacketAt = now;
    let seen = 0;
    for (const view of packets) {
      if (view.length < PACKET_SIZE) continue;
      this.lastPacket = now;
      let key = -1;
      let keyTables: ProgramTables | undefined;
      seen |= this.program.scan(view, 0, view.length, (at) => {
        const tables = this.program.currentTables;
        if (tables) [key, keyTables] = [at, tables];
      });
      if (key >= 0) seen |= Seen.keyFrame;
      let from = -1;
      if (keyTables) {
        from = key;
        const { pts, dts } = pesTimestampsAt(view, key);
        this.start = { dts: dts ?? pts, pts, tables: keyTables };
      } else if (!this.start && this.program.currentTables) {
        const waited = !this.program.hasVideo || now - this.firstPacketAt >= KEY_FRAME_WAIT_MS;
        const pat = waited ? lastPatIn(view) : -1;
        if (pat >= 0) {
          from = pat;
          this.start = { dts: undefined, pts: undefined, tables: this.program.currentTables };
        }
      }
      if (from >= 0) {
        this.held = [];
        this.heldBytes = 0;
      } else if (!this.start) continue;
      const kept = Buffer.from(view.subarray(Math.max(0, from)));
      this.held.push(kept);
      this.heldBytes += kept.length;
      if (this.heldBytes > MAX_HELD_BYTES) {
        this.held = [];
        this.heldBytes = 0;
        this.start = undefined;
      }
    }
    return seen;
  }

  /**
   * The switch: what the players get now (the source's tables, flagged, then what was held). `previous`:
   * the tables the players have (from the source they leave), to keep or bump the versions by.
   */
  open(previous: ProgramTracker | undefined): Buffer[] {
    const tables = this.start?.tables;
    if (!tables || this.isOpen) return [];
    this.isOpen = true;
    const before = previous?.currentTables;
    if (before) this.planVersions(before, tables);
    this.planClock(previous);
    const out: Buffer[] = [];
    for (const packet of [tables.pat, ...tables.pmt]) {
      if (!this.heldBeginsWith(packet)) this.pass(Buffer.from(packet), out);
    }
    for (const view of this.held) this.pass(view, out);
    this.held = [];
    this.heldBytes = 0;
    return out;
  }

  /**
   * The held window begins with this very table packet (it starts at a PAT: no key frame came in time), so
   * no copy goes before it: the same packet twice, with one counter, is a continuity error to ffmpeg.
   */
  private heldBeginsWith(packet: Buffer): boolean {
    const head = this.held[0];
    if (!head) return false;
    const end = Math.min(head.length - (head.length % PACKET_SIZE), HEAD_PACKETS * PACKET_SIZE);
    for (let at = 0; at < end; at += PACKET_SIZE) {
      if (head.compare(packet, 0, PACKET_SIZE, at, at + PACKET_SIZE) === 0) return true;
    }
    return false;
  }

  /** The source's packets after the switch, as the players get them (rewritten in place: views we own). */
  feed(packets: readonly Buffer[]): Buffer[] {
    const out: Buffer[] = [];
    for (const view of packets) this.pass(view, out);
    return out;
  }

  /**
   * The clock the source's timestamps (PTS, DTS, PCR) are moved by, so its start key frame comes one frame
   * after the players' last video frame: the picture may repeat or skip what the engines differ by, but time
   * runs on, which every player takes (a flagged jump back makes some drop or stall). Two engines of one
   * broadcast cut where they meet need no move.
   */
  private planClock(previous: ProgramTracker | undefined): void {
    const keyDts = this.start?.dts;
    const videoPid = previous?.map?.streams.find((s) => s.kind === 'video')?.pid;
    const sent = videoPid === undefined ? undefined : this.output.timeOf(videoPid);
    if (keyDts === undefined || !sent) return;
    const step = sent.step || DEFAULT_FRAME_TICKS;
    // Decoding and showing both run on: its key frame decoded a frame after the last one decoded, and shown
    // a frame after the last one shown (with B-frames, shown ones may be later than the last decoded).
    const keyPts = this.start?.pts;
    const byPts = keyPts === undefined ? -Infinity : timestampDelta(sent.maxPts + step, keyPts);
    this.clock = Math.max(timestampDelta(sent.last + step, keyDts), byPts);
    if (this.clock !== 0) this.rewriting = true;
  }

  /** The version each table goes out with: the players' when the table says the same, else the next. */
  private planVersions(previous: ProgramTables, next: ProgramTables): void {
    const pairs: [Buffer, Buffer | undefined][] = [
      [next.pat, previous.pat],
      [next.pmt[0]!, previous.pmt[0]],
    ];
    for (const [table, before] of pairs) {
      if (!before || next.pmt.length > 1) continue;
      const had = sectionVersionAt(before, 0);
      if (had < 0 || sectionVersionAt(table, 0) < 0) continue;
      const same = pidAt(table, 0) === pidAt(before, 0) && sectionBody(table) === sectionBody(before);
      const version = same ? had : (had + 1) & 0x1f;
      if (version !== sectionVersionAt(table, 0)) this.versionOf.set(pidAt(table, 0), version);
    }
    if (this.versionOf.size > 0) this.rewriting = true;
  }

  /**
   * `view`'s packets into `out` as the players get them: a PID's packets before its first unit start are
   * dropped, its first after it is flagged and sets the PID's counter offset, and every packet's counter
   * (and table version) is rewritten where needed. Runs of untouched packets go out as views.
   */
  private pass(view: Buffer, out: Buffer[]): void {
    let run = 0;
    for (let at = 0; at + PACKET_SIZE <= view.length; at += PACKET_SIZE) {
      const pid = pidAt(view, at);
      if (this.left > 0) this.left--;
      if (pid === NULL_PID) continue;
      if (this.clock !== 0) this.moveClock(view, at);
      if (this.begun[pid] === 0) {
        if (at > run) out.push(view.subarray(run, at));
        run = at + PACKET_SIZE;
        if (!unitStartAt(view, at) || this.behind(pid, view, at)) continue;
        this.begin(pid, view, at);
        flagInto(Buffer.from(view.subarray(at, at + PACKET_SIZE)), out);
        continue;
      }
      const shift = this.delta[pid]!;
      if (shift !== 0) setContinuityAt(view, at, continuityAt(view, at) + shift);
      const version = this.versionOf.get(pid);
      if (version !== undefined) setSectionVersionAt(view, at, version);
    }
    if (run < view.length) out.push(run === 0 ? view : view.subarray(run));
  }

  /** The packet's timestamps and clock reference, moved by `clock`. */
  private moveClock(view: Buffer, at: number): void {
    if (unitStartAt(view, at)) shiftPesTimestampsAt(view, at, this.clock);
    const pcr = pcrAt(view, at);
    if (pcr !== undefined) setPcrAt(view, at, pcr + this.clock);
  }

  /**
   * The unit starting at `at` begins before the end of what the players got last on its PID (the last
   * unit's start plus the step between units: audio the old source already sent, a PES holding several
   * frames): it is left out, and the PID begins at a later one.
   */
  private behind(pid: number, view: Buffer, at: number): boolean {
    const sent = this.output.timeOf(pid);
    const time = sent && decodeTimeAt(view, at);
    if (!sent || time === undefined) return false;
    const ahead = timestampDelta(time, sent.last + sent.step);
    return ahead < 0 && ahead > -ALIGN_RANGE_TICKS;
  }

  /** `pid`'s first packet after the switch, at `at`: its counter follows on from the players' last one. */
  private begin(pid: number, view: Buffer, at: number): void {
    this.begun[pid] = 1;
    const last = this.output.lastOf(pid);
    const cc = continuityAt(view, at);
    const want = last < 0 ? cc : hasPayloadAt(view, at) ? last + 1 : last;
    const shift = (want - cc) & 0x0f;
    this.delta[pid] = shift;
    if (shift !== 0) {
      this.rewriting = true;
      setContinuityAt(view, at, want);
    }
    const version = this.versionOf.get(pid);
    if (version !== undefined) setSectionVersionAt(view, at, version);
  }
}

/** Offset of the last PAT that starts a section in `view`, or -1. */
function lastPatIn(view: Buffer): number {
  for (let at = view.length - (view.length % PACKET_SIZE) - PACKET_SIZE; at >= 0; at -= PACKET_SIZE) {
    if (pidAt(view, at) === PAT_PID && unitStartAt(view, at)) return at;
  }
  return -1;
}
