// Follows one transport stream's programme as its packets go by: the PAT, the PMT it points at, which PIDs
// are video and audio, and where key frames start. Cheap enough for every packet of a relay: one header read
// per packet, a PSI parse only when a table's bytes change, a payload scan only where a video PES begins.
import { PACKET_SIZE, PAT_PID, hasPayloadAt, pidAt, unitStartAt } from './packet.ts';
import { keyFrameAt } from './pes.ts';
import { SectionReader, parsePat, parsePmt, type Codec, type Pmt } from './psi.ts';

/**
 * What `scan` saw, as bits: media of a kind moved (a packet with payload on one of its PIDs: a PCR-only
 * packet on the video PID is the clock, not video), or the programme (its PIDs) changed. `keyFrame` is
 * for callers that pass on what they saw: `scan` reports key frames through its callback.
 */
export const Seen = { video: 1, audio: 2, programChanged: 4, keyFrame: 8 } as const;

/** The tables in force at a point of the stream: the packets to send first to a player that starts there. */
export interface ProgramTables {
  pat: Buffer;
  pmt: Buffer[];
}

interface Table {
  reader: SectionReader;
  /** The packets of the section being collected, then of the last whole one. */
  collecting: Buffer[];
  packets: Buffer[];
  section: Buffer | undefined;
}

const newTable = (): Table => ({
  reader: new SectionReader(),
  collecting: [],
  packets: [],
  section: undefined,
});

/** Marks for up to 8192 PIDs: 0 none, 1 video, 2 audio, 3 PSI of the programme. */
const MARK_VIDEO = 1;
const MARK_AUDIO = 2;

export class ProgramTracker {
  private readonly marks = new Uint8Array(8192);
  private pat = newTable();
  private pmt = newTable();
  private pmtPid = -1;
  private program: Pmt | undefined;
  private videoPid = -1;
  private videoCodec: Codec | undefined;
  private tables: ProgramTables | undefined;
  private changes = 0;

  /** The programme map in force (undefined until a PMT was read). */
  get map(): Pmt | undefined {
    return this.program;
  }

  /** Does the programme have video (a radio channel has none)? */
  get hasVideo(): boolean {
    return this.videoPid >= 0;
  }

  get hasAudio(): boolean {
    return this.program?.streams.some((s) => s.kind === 'audio') ?? false;
  }

  /** How many times the programme's PIDs changed (a new PMT with other streams, or another PMT PID). */
  get programChanges(): number {
    return this.changes;
  }

  /** The last PAT and PMT packets seen, shared: treat as read-only (a later table gets new buffers). */
  get currentTables(): ProgramTables | undefined {
    return this.tables;
  }

  /**
   * Follow the whole packets in `buf[from, to)`; `onKeyFrame(at)` is told of each packet at which a video
   * key frame begins. Returns the Seen bits.
   */
  scan(buf: Buffer, from = 0, to = buf.length, onKeyFrame?: (at: number) => void): number {
    let seen = 0;
    const marks = this.marks;
    for (let at = from; at + PACKET_SIZE <= to; at += PACKET_SIZE) {
      const pid = pidAt(buf, at);
      const mark = marks[pid]!;
      if (mark === MARK_VIDEO) {
        if (hasPayloadAt(buf, at)) seen |= Seen.video;
        if (onKeyFrame && unitStartAt(buf, at) && keyFrameAt(buf, at, this.videoCodec)) onKeyFrame(at);
      } else if (mark === MARK_AUDIO && hasPayloadAt(buf, at)) seen |= Seen.audio;
      else if (pid === PAT_PID) this.readPat(buf, at);
      else if (pid === this.pmtPid && this.readPmt(buf, at)) seen |= Seen.programChanged;
    }
    return seen;
  }

  private collect(table: Table, buf: Buffer, at: number): Buffer | undefined {
    const packet = Buffer.from(buf.subarray(at, at + PACKET_SIZE));
    if (unitStartAt(buf, at)) table.collecting = [];
    table.collecting.push(packet);
    const section = table.reader.push(buf, at);
    if (!section) return undefined;
    table.packets = table.collecting;
    table.collecting = [];
    return section;
  }

  private readPat(buf: Buffer, at: number): void {
    const section = this.collect(this.pat, buf, at);
    if (!section) return;
    if (!this.pat.section?.equals(section)) {
      this.pat.section = section;
      const first = parsePat(section)?.programs.values().next();
      const pmtPid = first && !first.done ? first.value : -1;
      if (pmtPid !== this.pmtPid) {
        this.pmtPid = pmtPid;
        this.pmt = newTable();
      }
    }
    this.refreshTables();
  }

  private readPmt(buf: Buffer, at: number): boolean {
    const section = this.collect(this.pmt, buf, at);
    if (!section) return false;
    let changed = false;
    if (!this.pmt.section?.equals(section)) {
      this.pmt.section = section;
      const program = parsePmt(section);
      if (program) changed = this.follow(program);
    }
    this.refreshTables();
    return changed;
  }

  /** A new PMT: re-mark the PIDs. Returns whether the set of streams changed (not only the version). */
  private follow(program: Pmt): boolean {
    const before = this.program?.streams.map((s) => `${s.pid}:${s.streamType}`).join();
    this.program = program;
    this.marks.fill(0);
    const video = program.streams.find((s) => s.kind === 'video');
    this.videoPid = video?.pid ?? -1;
    this.videoCodec = video?.codec;
    for (const s of program.streams) {
      if (s.kind === 'video') this.marks[s.pid] = MARK_VIDEO;
      else if (s.kind === 'audio') this.marks[s.pid] = MARK_AUDIO;
    }
    const after = program.streams.map((s) => `${s.pid}:${s.streamType}`).join();
    if (before === after) return false;
    if (before !== undefined) this.changes++;
    return true;
  }

  private refreshTables(): void {
    const pat = this.pat.packets[0];
    if (pat && this.pmt.packets.length > 0) this.tables = { pat, pmt: this.pmt.packets };
  }
}
