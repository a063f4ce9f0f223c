import type { Socket } from 'node:net';
import { Seen, type ProgramTracker } from '@acefleet/mpegts';
import type { Logger } from '@acefleet/platform';
import { EntryPoints, type StartPoint } from './entry-points.ts';
import { patCuts, type CutPoint, type Segmenter } from '../hls/segmenter.ts';
import type { FlushClock, Flushable } from './flush-clock.ts';
import type { ProxyMetrics } from '../metrics.ts';
import { RingBuffer } from './ring-buffer.ts';
import type { RingMemory } from './ring-memory.ts';
import { Viewer, type ViewerLimits } from './viewer.ts';

export interface FanoutSettings {
  /** The most a stream's ring holds, whatever its bitrate. */
  ringBytes: number;
  /** The ring holds this much of the stream's measured bitrate (within MIN_RING_BYTES and ringBytes). */
  ringSeconds: number;
  /** A new player starts this far back in the stream, in time of its measured bitrate... */
  joinWindowMs: number;
  /** ...and at most this many bytes back (also the window while the bitrate is not measured yet). */
  joinWindowBytes: number;
  viewer: ViewerLimits;
}

export interface FanoutDeps {
  settings: FanoutSettings;
  metrics: ProxyMetrics;
  log: Logger;
  memory: RingMemory;
  clock: FlushClock;
  /** A player joined (`left` undefined) or left, and how. */
  onViewersChanged: (left?: LeaveReason) => void;
}

/** The smallest ring, whatever the bitrate: room for a few PATs to join at. */
export const MIN_RING_BYTES = 256 * 1024;
const RATE_SAMPLE_MS = 1000;
/** Weight of a new one-second sample in the measured bitrate. */
const RATE_SMOOTHING = 0.25;
/** A flush asks whether its turn is spent after this many players (a clock read per player would cost). */
const PLAYERS_PER_TIME_CHECK = 32;
/**
 * Players waiting for a stream's first media are let in at its first key frame, so their first bytes
 * decode; a source without one this long after its first media (or with no video) lets them in at a PAT.
 */
export const KEY_FRAME_WAIT_MS = 1000;

/** A bit beside the Seen bits `push` returns: the packets held a video key frame. */
export const KEY_FRAME_SEEN = Seen.keyFrame;

/** How a player went: it hung up, or it was dropped for not reading. */
export type LeaveReason = 'client_disconnected' | 'slow_client';

/** What a time-to-first-byte counts: a new stream, a running one, or one kept by linger. */
export type JoinKind = 'new' | 'live' | 'linger';

let viewerIds = 0;

/**
 * `seconds` of a stream at `bytesPerSecond`, within [minBytes, maxBytes]: how much of the past the ring holds
 * and how far back a joiner starts. While the bitrate is not measured yet (0), `maxBytes`.
 */
export function bytesOfSeconds(
  bytesPerSecond: number,
  seconds: number,
  minBytes: number,
  maxBytes: number,
): number {
  if (bytesPerSecond <= 0) return maxBytes;
  return Math.min(maxBytes, Math.max(minBytes, Math.round(bytesPerSecond * seconds)));
}

/**
 * One stream's players, its ring and its writes. Arriving packets are copied into the ring at once (see
 * ring-buffer.ts); the proxy-wide flush clock then writes to every player what it lacks, so the cost is one
 * write per player per flush window, with no timer of its own. The ring is sized in seconds of the measured
 * bitrate, so a low-rate channel holds little.
 */
export class Fanout implements Flushable {
  private readonly ring: RingBuffer;
  private readonly players = new Set<Viewer>();
  private bytesOutOfGone = 0;
  private peak = 0;
  private lastFlushAt = 0;
  /** The players the flush under way has yet to serve (a Set iterator sees joins and leaves meanwhile). */
  private unserved: Iterator<Viewer> | undefined;
  private closed = false;
  private rateBytes = 0;
  private rateSince = 0;
  private bytesPerSecond = 0;
  private readonly entries = new EntryPoints();
  /** The programme of the engine the last media came from (it follows that engine's PAT and PMT). */
  private program: ProgramTracker | undefined;
  private firstMediaAt = 0;
  /** The stream's HLS output, cut from the same packets as they go into the ring (see hls/segmenter.ts). */
  private segmenter: Segmenter | undefined;
  private readonly cuts: CutPoint[] = [];
  private readonly skipTo = (ring: RingBuffer): StartPoint =>
    this.entries.skipTo(ring) ?? { pos: ring.liveEdge(), prelude: undefined };

  constructor(private readonly deps: FanoutDeps) {
    this.ring = new RingBuffer(deps.settings.ringBytes, deps.memory);
  }

  get viewers(): ReadonlySet<Viewer> {
    return this.players;
  }

  get hasMedia(): boolean {
    return this.ring.end > 0;
  }

  get bufferedBytes(): number {
    return this.ring.bytes;
  }

  get peakClients(): number {
    return this.peak;
  }

  /** The stream's byte rate as last measured (0 until a second of media has arrived). */
  get measuredBytesPerSecond(): number {
    return this.bytesPerSecond;
  }

  get bytesOut(): number {
    let sum = this.bytesOutOfGone;
    for (const v of this.players) sum += v.bytesOut;
    return sum;
  }

  /**
   * Whole packets from the engine: into the ring now, to the players at the next tick of the clock. On the
   * way, `program` (the engine's) reads them: where key frames start, and which kinds of media moved (the
   * Seen bits it returns).
   */
  push(packets: readonly Buffer[], now: number, program?: ProgramTracker): number {
    if (this.closed) return 0;
    let seen = 0;
    if (program) this.program = program;
    const segmenter = this.segmenter;
    for (const p of packets) {
      this.cuts.length = 0;
      if (program) {
        const base = this.ring.end;
        let key = 0;
        seen |= program.scan(p, 0, p.length, (at) => {
          this.entries.add(base + at, program.currentTables);
          key = KEY_FRAME_SEEN;
          if (segmenter) this.cuts.push({ at, tables: program.currentTables });
        });
        // Not set inside the callback: `seen |= scan(…)` reads `seen` before the scan runs.
        seen |= key;
      }
      this.ring.append(p);
      if (segmenter) {
        if (this.program?.map && !this.program.hasVideo) patCuts(p, this.program.currentTables, this.cuts);
        segmenter.append(p, this.cuts, now);
      }
      this.rateBytes += p.length;
    }
    this.entries.prune(this.ring.start);
    if (this.rateSince === 0) this.rateSince = now;
    if (this.firstMediaAt === 0 && packets.length > 0) this.firstMediaAt = now;
    this.deps.clock.mark(this);
    return seen;
  }

  /**
   * Cut HLS segments from now on into `segmenter`, starting with what the ring holds from its oldest key
   * frame, so the first segment is ready as soon as the next key frame comes.
   */
  feed(segmenter: Segmenter, now: number): void {
    this.segmenter = segmenter;
    const points = this.entries.from(this.ring.start);
    let offset = points[0]?.offset;
    if (offset === undefined) return;
    for (const view of this.ring.readFrom(offset)) {
      const cuts = points
        .filter((p) => p.offset >= offset! && p.offset < offset! + view.length)
        .map((p) => ({ at: p.offset - offset!, tables: p.tables }));
      segmenter.append(view, cuts, now);
      offset += view.length;
    }
  }

  /** Stop cutting HLS segments (no HLS player polls any more): the packets go into the ring only. */
  unfeed(): void {
    this.segmenter = undefined;
    this.cuts.length = 0;
  }

  /**
   * Can waiting players start now? At a key frame with its tables; or, KEY_FRAME_WAIT_MS after the first
   * media without one, or at once for a programme without video, at a PAT.
   */
  readyToJoin(now: number): boolean {
    if (!this.hasMedia) return false;
    if (!this.entries.isEmpty) return true;
    const map = this.program?.map;
    return (map !== undefined && !this.program!.hasVideo) || now - this.firstMediaAt >= KEY_FRAME_WAIT_MS;
  }

  /**
   * Write to every player what it lacks, over several calls when `timeUp` says so (see Flushable); without
   * it, to the last player at once.
   */
  flush(now: number, timeUp: () => boolean = () => false): boolean {
    if (this.closed) return true;
    this.lastFlushAt = now;
    const players = (this.unserved ??= this.players.values());
    let written = 0;
    let next = players.next();
    for (let served = 1; !next.done; served++) {
      written += this.pumpOne(next.value);
      if (served % PLAYERS_PER_TIME_CHECK === 0 && timeUp()) break;
      next = players.next();
    }
    this.deps.metrics.bytesOut.inc(written);
    if (!next.done) return false;
    this.unserved = undefined;
    this.recycle();
    return true;
  }

  /**
   * Attach a player at the join point of the ring (the first key frame in the join window, its tables sent
   * first; else the first PAT) and send it what the ring holds from there. `headSent`: its response head
   * went out while it waited.
   */
  join(socket: Socket, requestedAt: bigint, kind: JoinKind, headSent = false): Viewer {
    const { joinWindowMs, joinWindowBytes } = this.deps.settings;
    const window = bytesOfSeconds(this.bytesPerSecond, joinWindowMs / 1000, 0, joinWindowBytes);
    const viewer = new Viewer(++viewerIds, socket, this.deps.settings.viewer);
    const from = Math.max(this.ring.start, this.ring.end - window);
    const start = this.entries.joinAt(from) ?? { pos: this.ring.joinPoint(window), prelude: undefined };
    viewer.begin(start, headSent);
    this.players.add(viewer);
    this.peak = Math.max(this.peak, this.players.size);
    this.deps.onViewersChanged();
    socket.once('close', () => this.detach(viewer, 'client_disconnected'));
    socket.on('drain', () => this.deps.metrics.bytesOut.inc(this.pumpOne(viewer)));
    // A player's socket error is its own: 'close' follows and detaches it.
    socket.on('error', () => {});
    this.deps.metrics.bytesOut.inc(this.pumpOne(viewer));
    // The joiner holds bytes from before what the other players hold: the ring must not reuse them.
    this.recycle();
    const seconds = Number(process.hrtime.bigint() - requestedAt) / 1e9;
    this.deps.metrics.firstByteSeconds.observe({ join: kind }, seconds);
    return viewer;
  }

  /**
   * Work no event marks, on the proxy's watchdog: players stuck at their backlog get another try (or are
   * dropped as slow), and the ring follows the measured bitrate.
   */
  check(now: number): void {
    let written = 0;
    for (const viewer of this.players) if (viewer.socket.writableLength > 0) written += this.pumpOne(viewer);
    this.deps.metrics.bytesOut.inc(written);
    this.recycle();
    this.measure(now);
  }

  /** End every player's body cleanly and give the ring's memory back. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.deps.clock.forget(this);
    for (const viewer of this.players) {
      this.bytesOutOfGone += viewer.bytesOut;
      viewer.end();
    }
    this.players.clear();
    this.ring.clear();
  }

  private measure(now: number): void {
    const elapsed = now - this.rateSince;
    if (this.rateSince === 0 || elapsed < RATE_SAMPLE_MS) return;
    // A silent second (a failover gap) says nothing about the bitrate: the ring keeps its size.
    if (this.rateBytes > 0) {
      const sample = (this.rateBytes * 1000) / elapsed;
      // Smoothed: a catch-up burst after a stall (or a late watchdog) must not resize every ring.
      this.bytesPerSecond +=
        (sample - this.bytesPerSecond) * (this.bytesPerSecond === 0 ? 1 : RATE_SMOOTHING);
      const { ringBytes, ringSeconds } = this.deps.settings;
      this.ring.resize(bytesOfSeconds(this.bytesPerSecond, ringSeconds, MIN_RING_BYTES, ringBytes));
    }
    this.rateBytes = 0;
    this.rateSince = now;
  }

  /** Evicted ring blocks no player's socket sends from any more are reused. */
  private recycle(): void {
    let heldFrom = this.ring.end;
    for (const viewer of this.players) heldFrom = Math.min(heldFrom, viewer.heldFrom());
    this.ring.recycle(heldFrom);
  }

  private detach(viewer: Viewer, why: LeaveReason): void {
    if (!this.players.delete(viewer)) return;
    this.bytesOutOfGone += viewer.bytesOut;
    this.deps.onViewersChanged(why);
  }

  /** Feed one player what it lacks; returns the bytes written (counted by the caller). */
  private pumpOne(viewer: Viewer): number {
    const before = viewer.bytesOut;
    const result = viewer.pump(this.ring, this.lastFlushAt, this.skipTo);
    if (result === 'skipped') this.deps.metrics.slowSkips.inc();
    if (result === 'slow') {
      this.deps.log.info({ viewer: viewer.id }, 'dropping slow client');
      this.deps.metrics.slowDrops.inc();
      viewer.destroy();
      this.detach(viewer, 'slow_client');
    }
    return viewer.bytesOut - before;
  }
}
