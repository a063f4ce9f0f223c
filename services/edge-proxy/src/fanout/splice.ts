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

/**
 * What a stream's players last got on each PID: its continuity counter, and (from the packets that start a
 * PES) its last two decode times. A source that takes over has its counters rewritten to follow on from
 * these, and its clock moved to run on from them (see Splice), so the output never jumps.
 */
export class OutputContinuity {
  private readonly last = new Int8Array(8192).fill(-1);
  private readonly times = new Map<number, UnitTimes>();

  /** Whole packets that went out, in order. */
  note(views: readonly Buffer[]): void {
    const last = this.last;
    for (const view of views) {
      for (let at = 0; at + PACKET_SIZE <= view.length; at += PACKET_SIZE) {
        const pid = pidAt(view, at);
        last[pid] = continuityAt(view, at);
        if (!unitStartAt(view, at) || pid === PAT_PID) continue;
        const { pts, dts } = pesTimestampsAt(view, at);
        const time = dts ?? pts;
        if (time === undefined || pts === undefined) continue;
        const before = this.times.get(pid);
        const step = before ? timestampDelta(time, before.last) : 0;
        const later = before && timestampDelta(before.maxPts, pts) > 0 && step > 0 && step < MAX_FRAME_TICKS;
        this.times.set(pid, {
          last: time,
          step: step > 0 && step < MAX_FRAME_TICKS ? step : (before?.step ?? 0),
          maxPts: later ? before.maxPts : pts,
        });
      }
    }
  }

  /** The counter of the last packet on `pid` that went out, or -1: the PID is new to the players. */
  lastOf(pid: number): number {
    return this.last[pid]!;
  }

  /** The decode time of the last unit on `pid` that went out, the step between its last two, and the latest PTS. */
  timeOf(pid: number): UnitTimes | undefined {
    return this.times.get(pid);
  }
}

/** What went out on a PID, in time: its last unit's decode time, the step between units, the latest PTS. */
interface UnitTimes {
  last: number;
  step: number;
  /** Frames are shown in PTS order: a cut after a reference frame leaves one shown later than the last DTS. */
  maxPts: number;
}

/** A step between two frames longer than this is a gap, not a frame's duration. */
const MAX_FRAME_TICKS = TIMESTAMP_HZ;
/** The frame duration assumed when the players' last step is not known (25 frames a second). */
const DEFAULT_FRAME_TICKS = TIMESTAMP_HZ / 25;

/** After the splice, PIDs are flagged as they turn up for this long at most (a PID gone quiet is let be). */
const FLAG_WINDOW_PACKETS = 8192;
/** With no key frame this long after the new source's first packets, the splice is made at a PAT. */
const KEY_FRAME_WAIT_MS = 1000;
/** A splice holds at most this much of its source (one GOP, from its latest key frame, is far less). */
const MAX_HELD_BYTES = 16 * 1024 * 1024;

/** The DTS (else PTS) of the PES starting in the packet at `at`, if it has one. */
export function decodeTimeAt(buf: Uint8Array, at: number): number | undefined {
  const { pts, dts } = pesTimestampsAt(buf, at);
  return dts ?? pts;
}

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
    for (const packet of [tables.pat, ...tables.pmt]) this.pass(Buffer.from(packet), out);
    for (const view of this.held) this.pass(view, out);
    this.held = [];
    this.heldBytes = 0;
    return out;
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

/** Offset of the last PAT that starts a section in `view`, or -1. */
function lastPatIn(view: Buffer): number {
  for (let at = view.length - (view.length % PACKET_SIZE) - PACKET_SIZE; at >= 0; at -= PACKET_SIZE) {
    if (pidAt(view, at) === PAT_PID && unitStartAt(view, at)) return at;
  }
  return -1;
}

/** Longest a planned switch waits for the source it leaves to reach the new one's key frame. */
export const ALIGN_WAIT_MS = 3000;
/** After the video is cut, other PIDs run on to the end of their unit (a PES) for this long at most. */
const CLOSE_WAIT_MS = 300;
/** A cut not made this long after ALIGN_WAIT_MS is forced (see SourceCut.overdue). */
const FORCE_AFTER_MS = 2000;
/** Decode times further apart than this are of unrelated clocks: nothing to align to. */
const ALIGN_RANGE_TICKS = 10 * TIMESTAMP_HZ;

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
