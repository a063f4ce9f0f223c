import {
  PAT_PID,
  decodeTimeAt,
  pidAt,
  timestampDelta,
  TIMESTAMP_HZ,
  type ProgramTables,
} from '@acefleet/mpegts';
import type { RingMemory } from '../fanout/ring-memory.ts';

/** A point a segment may start at, inside one view of packets: a key frame (or, without video, a PAT). */
export interface CutPoint {
  at: number;
  tables: ProgramTables | undefined;
}

/** One finished segment, as players fetch it. */
export interface Segment {
  readonly sequence: number;
  readonly data: Buffer;
  readonly durationS: number;
  /** The first segment after a failover: the playlist puts EXT-X-DISCONTINUITY before it. */
  readonly discontinuity: boolean;
}

export interface SegmenterSettings {
  /** A segment is cut at the first key frame at least this long after its own start. */
  targetSeconds: number;
  /** Segments the live playlist lists. */
  playlistSegments: number;
}

/**
 * Finished segments kept beyond the playlist's window: a player that read the playlist just before it slid
 * still gets the oldest segment it lists.
 */
const SEGMENTS_BEHIND = 2;
/** A segment this long without a cut point is cut anyway (a source with no key frame for that long). */
const LONGEST_SEGMENT_S = 10;
/** Timestamp gaps beyond this are a jump (a new engine's clock), not a duration. */
const MAX_PLAUSIBLE_S = 60;

interface OpenSegment {
  parts: Buffer[];
  bytes: number;
  /** Decode time of its first key frame (90 kHz), when its PES carried one. */
  startTs: number | undefined;
  startedAt: number;
  discontinuity: boolean;
}

/**
 * HLS segments cut from one stream's packets as they go into its ring: each starts at a key frame (a PAT
 * for a programme without video) with the PAT and PMT in force in front, and runs to the first key frame
 * `targetSeconds` (in the stream's own timestamps) after it, so segments are whole GOPs. Finished segments
 * are kept in a bounded window and counted in the proxy's ring memory, like the rings.
 */
export class Segmenter {
  private readonly done: Segment[] = [];
  private open: OpenSegment | undefined;
  private nextSequence = 0;
  /** Discontinuities that have left the window (EXT-X-DISCONTINUITY-SEQUENCE). */
  private discontinuitiesGone = 0;
  /** The next segment starts after a break (a failover): cut at once, and flag it. */
  private breakPending = false;
  private closed = false;
  private readonly readyWaiters: (() => void)[] = [];

  constructor(
    private readonly settings: SegmenterSettings,
    private readonly memory: RingMemory,
  ) {}

  /** Finished segments, oldest first. */
  get segments(): readonly Segment[] {
    return this.done;
  }

  /** Memory the segments hold now, the open one included. */
  get heldBytes(): number {
    let n = this.open?.bytes ?? 0;
    for (const s of this.done) n += s.data.length;
    return n;
  }

  get hasSegments(): boolean {
    return this.done.length > 0;
  }

  /** Resolves once a first segment is finished (at once if one is). */
  whenReady(): Promise<void> {
    if (this.done.length > 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  segment(sequence: number): Segment | undefined {
    const first = this.done[0];
    if (!first) return undefined;
    return this.done[sequence - first.sequence];
  }

  /** What comes next follows a break (another engine took over): end the open segment here. */
  discontinuity(): void {
    this.breakPending = true;
  }

  /**
   * Packets that just went into the ring, `cuts` the points in `view` where a segment may start. The bytes
   * are copied: `view` may be a read buffer that is reused.
   */
  append(view: Buffer, cuts: readonly CutPoint[], now: number): void {
    if (this.closed) return;
    let from = 0;
    for (const cut of cuts) {
      if (!cut.tables) continue;
      const ts = decodeTimeAt(view, cut.at);
      if (this.open && !this.breakPending && !this.longEnough(this.open, ts, now)) continue;
      if (this.open) this.addPart(view, from, cut.at);
      this.finish(ts, now);
      this.begin(cut.tables, ts, now);
      from = cut.at;
    }
    if (this.open) this.addPart(view, from, view.length);
    // A source that stopped sending key frames: its segments must not grow without bound.
    if (this.open && now - this.open.startedAt > LONGEST_SEGMENT_S * 1000) this.finish(undefined, now);
  }

  /** The live playlist: the newest segments, each at `${base}/${sequence}.ts`. */
  playlist(base: string, suffix = ''): string {
    const listed = this.done.slice(-this.settings.playlistSegments);
    const first = listed[0];
    const target = Math.max(
      Math.ceil(this.settings.targetSeconds),
      ...listed.map((s) => Math.ceil(s.durationS)),
    );
    const lines = [
      '#EXTM3U',
      '#EXT-X-VERSION:3',
      `#EXT-X-TARGETDURATION:${target}`,
      `#EXT-X-MEDIA-SEQUENCE:${first?.sequence ?? this.nextSequence}`,
      `#EXT-X-DISCONTINUITY-SEQUENCE:${this.discontinuitiesBefore(first)}`,
    ];
    for (const s of listed) {
      if (s.discontinuity && s !== first) lines.push('#EXT-X-DISCONTINUITY');
      lines.push(`#EXTINF:${s.durationS.toFixed(3)},`, `${base}/${s.sequence}.ts${suffix}`);
    }
    return lines.join('\n') + '\n';
  }

  /**
   * No HLS player polls any more: the segments' memory goes back, and cutting stops until the output is fed
   * again. The sequence then goes on, after a flagged break, so a player that kept the playlist's URL sees
   * it move forward, never back.
   */
  idle(): void {
    for (const s of this.done.splice(0)) {
      if (s.discontinuity) this.discontinuitiesGone++;
      this.memory.free(s.data.length);
    }
    if (this.open) this.memory.free(this.open.bytes);
    this.open = undefined;
    this.breakPending = true;
  }

  /** Give every segment's memory back (the stream ended). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.done.splice(0)) this.memory.free(s.data.length);
    if (this.open) this.memory.free(this.open.bytes);
    this.open = undefined;
    for (const resolve of this.readyWaiters.splice(0)) resolve();
  }

  /** Discontinuities before `first` in the stream: those gone, and those in the cache before the window. */
  private discontinuitiesBefore(first: Segment | undefined): number {
    let n = this.discontinuitiesGone;
    for (const s of this.done) {
      if (s === first) break;
      if (s.discontinuity) n++;
    }
    return n + (first?.discontinuity ? 1 : 0);
  }

  private longEnough(open: OpenSegment, ts: number | undefined, now: number): boolean {
    const seconds =
      ts !== undefined && open.startTs !== undefined
        ? timestampDelta(ts, open.startTs) / TIMESTAMP_HZ
        : (now - open.startedAt) / 1000;
    return seconds >= this.settings.targetSeconds || seconds < 0 || seconds > MAX_PLAUSIBLE_S;
  }

  private begin(tables: ProgramTables, ts: number | undefined, now: number): void {
    const prelude = [tables.pat, ...tables.pmt].map((p) => this.copy(p, 0, p.length));
    const bytes = prelude.reduce((n, p) => n + p.length, 0);
    this.open = {
      parts: prelude,
      bytes,
      startTs: ts,
      startedAt: now,
      discontinuity: this.breakPending,
    };
    this.breakPending = false;
  }

  private addPart(view: Buffer, from: number, to: number): void {
    if (to <= from || !this.open) return;
    this.open.parts.push(this.copy(view, from, to));
    this.open.bytes += to - from;
  }

  private copy(view: Buffer, from: number, to: number): Buffer {
    const part = this.memory.allocate(to - from);
    view.copy(part, 0, from, to);
    return part;
  }

  /** The open segment is complete (its end's timestamp `ts`, when known): into the window. */
  private finish(ts: number | undefined, now: number): void {
    const open = this.open;
    this.open = undefined;
    if (!open || open.bytes === 0) return;
    const data = Buffer.concat(open.parts, open.bytes);
    const known = ts !== undefined && open.startTs !== undefined;
    let durationS = known ? timestampDelta(ts, open.startTs!) / TIMESTAMP_HZ : (now - open.startedAt) / 1000;
    if (durationS <= 0 || durationS > MAX_PLAUSIBLE_S) durationS = (now - open.startedAt) / 1000;
    // The parts are counted until here; the joined segment from now on (the same bytes).
    this.done.push({ sequence: this.nextSequence++, data, durationS, discontinuity: open.discontinuity });
    while (this.done.length > this.settings.playlistSegments + SEGMENTS_BEHIND) {
      const gone = this.done.shift()!;
      if (gone.discontinuity) this.discontinuitiesGone++;
      this.memory.free(gone.data.length);
    }
    for (const resolve of this.readyWaiters.splice(0)) resolve();
  }
}

/** Cut points of a programme without video: its PATs (players start decoding audio anywhere). */
export function patCuts(view: Buffer, tables: ProgramTables | undefined, into: CutPoint[]): void {
  for (let at = 0; at + 188 <= view.length; at += 188)
    if (pidAt(view, at) === PAT_PID) into.push({ at, tables });
}
