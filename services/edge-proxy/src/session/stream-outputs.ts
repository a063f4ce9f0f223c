import type { Socket } from 'node:net';
import type { AcefleetError } from '@acefleet/contracts';
import type { ProgramTracker } from '@acefleet/mpegts';
import type { Logger } from '@acefleet/platform';
import { Fanout, type FanoutSettings, type JoinKind, type LeaveReason } from '../fanout/fanout.ts';
import type { FlushClock } from '../fanout/flush-clock.ts';
import type { RingMemory } from '../fanout/ring-memory.ts';
import type { Viewer } from '../fanout/viewer.ts';
import { WaitingPlayers } from '../fanout/waiting-players.ts';
import { HlsOutput, type HlsOutputSettings } from '../hls/hls-output.ts';
import type { Release } from '../hls/hls-viewers.ts';
import type { ProxyMetrics } from '../metrics.ts';

export interface OutputSettings extends FanoutSettings {
  /** A player waiting for the stream's first media gets its response head after this long. */
  waitHeadMs: number;
  hls: HlsOutputSettings;
}

/** How the last player went: a TS player hung up or was dropped, or the HLS players stopped polling. */
export type EmptyReason = LeaveReason | 'linger_expired';

export interface OutputDeps {
  settings: OutputSettings;
  metrics: ProxyMetrics;
  log: Logger;
  memory: RingMemory;
  clock: FlushClock;
  /** Players came or went (`left`: the last change was a leave, and how). */
  onViewersChanged: (left?: EmptyReason) => void;
}

/** Lets a player in: the stream may leave `lingering` first. */
export type Join = (socket: Socket, requestedAt: bigint, kind: JoinKind, headSent: boolean) => Viewer;

/**
 * What one stream's packets go out through: the MPEG-TS fan-out (its ring and players, and the players
 * waiting for the first media) and, once a player asked for it, the HLS output cut from the same packets.
 * The stream feeds them and asks who watches; they know nothing of engines.
 */
export class StreamOutputs {
  readonly fanout: Fanout;
  readonly waiting: WaitingPlayers;
  private hlsOutput: HlsOutput | undefined;
  /** The fan-out cuts segments for the HLS output (not while no HLS player polls). */
  private hlsFed = false;
  private peak = 0;

  constructor(private readonly deps: OutputDeps) {
    this.fanout = new Fanout({ ...deps, onViewersChanged: (left) => this.changed(left) });
    this.waiting = new WaitingPlayers(deps.settings.waitHeadMs, () =>
      deps.onViewersChanged('client_disconnected'),
    );
  }

  get hls(): HlsOutput | undefined {
    return this.hlsOutput;
  }

  /** Players watching now: MPEG-TS connections and HLS players polling. */
  get viewerCount(): number {
    return this.fanout.viewers.size + (this.hlsOutput?.viewers.size ?? 0);
  }

  /** Players watching or waiting for the first media. */
  get clientCount(): number {
    return this.viewerCount + this.waiting.size;
  }

  /** Players a start retry is for: those waiting, and HLS players (who poll until the first segment). */
  get waiters(): number {
    return this.waiting.size + (this.hlsOutput?.viewers.size ?? 0);
  }

  get peakClients(): number {
    return this.peak;
  }

  get bytesOut(): number {
    return this.fanout.bytesOut + (this.hlsOutput?.viewers.bytesOut ?? 0);
  }

  /** An MPEG-TS player: in now when the stream can be joined, else it waits for the first media. */
  attach(socket: Socket, requestedAt: bigint, kind: JoinKind, join: Join): Promise<Viewer | undefined> {
    if (this.fanout.readyToJoin(Date.now())) return Promise.resolve(join(socket, requestedAt, kind, false));
    return this.waiting.add(socket, requestedAt, kind);
  }

  /**
   * A request of an HLS player (`viewer`: its address and user agent), counted for the viewer window and
   * holding the slot `admit` gives (asked only for a player not counted yet). The HLS output is made at the
   * first one, from what the ring holds. Returns the output, and whether the player is new.
   */
  hlsRequest(viewer: string, admit: () => Release): { output: HlsOutput; isNew: boolean } {
    const now = Date.now();
    this.hlsOutput ??= new HlsOutput(this.deps.settings.hls, this.deps.memory);
    if (!this.hlsFed) {
      this.hlsFed = true;
      this.fanout.feed(this.hlsOutput.segmenter, now);
    }
    const isNew = this.hlsOutput.viewers.touch(viewer, now, admit);
    if (isNew) this.changed();
    return { output: this.hlsOutput, isNew };
  }

  /** Media for every output; returns what it held (Seen bits, KEY_FRAME_SEEN). */
  push(media: readonly Buffer[], now: number, program: ProgramTracker): number {
    return this.fanout.push(media, now, program);
  }

  /** What comes next is from another engine: HLS players get EXT-X-DISCONTINUITY before it. */
  discontinuity(): void {
    this.hlsOutput?.segmenter.discontinuity();
  }

  /** Waiting players join once the stream can be joined (at a key frame when it has one). */
  admitIfReady(now: number, join: Join): void {
    if (this.waiting.size > 0 && this.fanout.readyToJoin(now)) this.waiting.admit(join);
  }

  /** Work no event marks (watchdog): stuck players, the ring's size, HLS players gone quiet, keep-alives. */
  check(now: number, join: Join): void {
    this.fanout.check(now);
    const hls = this.hlsOutput;
    if (hls?.viewers.prune(now)) this.changed('linger_expired');
    if (hls && this.hlsFed && hls.viewers.size === 0) {
      // Nobody polls: no more cutting, and the segment cache goes back (see Segmenter.idle).
      this.hlsFed = false;
      this.fanout.unfeed();
      hls.segmenter.idle();
    }
    if (this.waiting.size === 0) return;
    if (this.fanout.readyToJoin(now)) this.waiting.admit(join);
    else this.waiting.keepAlive();
  }

  /** The stream ended: waiting players get `waitError` (or a clean end), the others a clean end. */
  close(waitError: AcefleetError, hlsError: AcefleetError): void {
    this.waiting.fail(waitError);
    this.fanout.close();
    this.hlsOutput?.close(hlsError);
  }

  private changed(left?: EmptyReason): void {
    this.peak = Math.max(this.peak, this.viewerCount);
    this.deps.onViewersChanged(left);
  }
}
