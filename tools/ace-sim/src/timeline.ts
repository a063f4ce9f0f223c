// The live channel: an endless sequence of TS packets that is a pure function of the wall clock and the
// content, as a broadcast relayed by every engine of a swarm is. Packet N of a channel lies in loop
// L = floor(N / packets) of the clip; loop L is the clip with its PCR, PTS and DTS moved on by L·D (modulo
// 2^33) and each PID's continuity counter by L times its packets, rendered once and shared by every session
// and every content. Each content plays the timeline from its own phase, so channels show other pictures.
import {
  PACKET_SIZE,
  TIMESTAMP_WRAP,
  continuityAt,
  pidAt,
  setContinuityAt,
  setPcrAt,
  shiftPesTimestampsAt,
  wrapTimestamp,
} from '@acefleet/mpegts';
import type { Media } from './media.ts';

export interface TimelineOptions {
  /** Playback bitrate: the clip's own plays in real time; another runs the channel's clock faster or slower. */
  bitrateBps: number;
  /** Added to the wall clock: moves every channel along its timeline (e.g. to just before the 2^33 wrap). */
  clockOffsetMs: number;
  /** Loops kept rendered (default 4: the one playing, the next, and two behind for bursts and late readers). */
  renderings?: number;
  now?: () => number;
}

/** `a · b` modulo 2^33, exactly, for a loop index far past 2^53 / D. */
const wrappedProduct = (a: number, b: number): number =>
  Number((BigInt(a) * BigInt(b)) % BigInt(TIMESTAMP_WRAP));

/** Loop `loop` of the clip, with timestamps and counters where the endless channel has them. */
export function renderLoop(media: Media, loop: number): Buffer {
  const out = Buffer.from(media.bytes);
  const D = media.durationTicks;
  const loopTicks = wrappedProduct(loop, D);
  const ccStep = new Uint8Array(8192);
  for (const [pid, count] of media.payloadPackets) ccStep[pid] = wrappedProduct(loop, count) % 16;
  for (let at = 0; at < out.length; at += PACKET_SIZE) {
    const step = ccStep[pidAt(out, at)]!;
    if (step !== 0) setContinuityAt(out, at, continuityAt(out, at) + step);
  }
  const ptsShift = wrapTimestamp(loopTicks - Math.round(media.pcrOrigin));
  for (const n of media.pesPackets) shiftPesTimestampsAt(out, n * PACKET_SIZE, ptsShift);
  // The PCR is the packet's place in the timeline (n · D / packets, in 27 MHz units below the tick), so
  // arrival time and PCR agree.
  for (const n of media.pcrPackets) {
    const clock27 = Math.floor((n * D * 300) / media.packets);
    setPcrAt(out, n * PACKET_SIZE, loopTicks + Math.floor(clock27 / 300), clock27 % 300);
  }
  return out;
}

export class Timeline {
  /** Channel packets per millisecond of wall clock. */
  readonly packetsPerMs: number;
  readonly #media: Media;
  readonly #offsetMs: number;
  readonly #now: () => number;
  readonly #keep: number;
  readonly #renderings = new Map<number, Buffer>();
  #rendered = 0;

  constructor(media: Media, opts: TimelineOptions) {
    this.#media = media;
    this.packetsPerMs = opts.bitrateBps / 8 / PACKET_SIZE / 1000;
    this.#offsetMs = opts.clockOffsetMs;
    this.#now = opts.now ?? Date.now;
    this.#keep = Math.max(2, opts.renderings ?? 4);
  }

  /** Packets in one loop of the clip. */
  get loopPackets(): number {
    return this.#media.packets;
  }

  /** One loop's length in 90 kHz ticks (D): the PCR moves on by D every `loopPackets`. */
  get loopTicks(): number {
    return this.#media.durationTicks;
  }

  /** Loops rendered so far (a new one per D of channel time, plus any a lagging reader asked for again). */
  get renderedLoops(): number {
    return this.#rendered;
  }

  /** Where a content starts within the clip: a few hex digits of its infohash, modulo the loop. */
  phaseOf(infohash: string): number {
    return Number.parseInt(infohash.slice(0, 8), 16) % this.#media.packets;
  }

  /** The packet a content's channel is at on the wall clock (the live edge). */
  livePacket(phase: number, wallMs = this.#now()): number {
    return Math.floor((wallMs + this.#offsetMs) * this.packetsPerMs) + phase;
  }

  /** Packets [from, from + count) of the channel, as views of the shared renderings: no copy. */
  slice(from: number, count: number): Buffer[] {
    const { packets } = this.#media;
    const pieces: Buffer[] = [];
    for (let n = from, left = count; left > 0;) {
      const loop = Math.floor(n / packets);
      const at = n - loop * packets;
      const take = Math.min(left, packets - at);
      pieces.push(this.#loop(loop).subarray(at * PACKET_SIZE, (at + take) * PACKET_SIZE));
      n += take;
      left -= take;
    }
    return pieces;
  }

  /** The packet where entry point `e` (counted from the channel's packet 0) starts its HLS segment. */
  entryStart(e: number): number {
    const { entryPoints, packets } = this.#media;
    const loop = Math.floor(e / entryPoints.length);
    return loop * packets + entryPoints[e - loop * entryPoints.length]!.start;
  }

  /** The entry point whose segment start is the last one at or before `packet`. */
  entryAt(packet: number): number {
    const { entryPoints, packets } = this.#media;
    const loop = Math.floor(packet / packets);
    const within = packet - loop * packets;
    let i = entryPoints.length - 1;
    while (i >= 0 && entryPoints[i]!.start > within) i--;
    return loop * entryPoints.length + i;
  }

  /** Ticks from entry point `e`'s key frame to the next one's. */
  entryDuration(e: number): number {
    const { entryPoints } = this.#media;
    const n = entryPoints.length;
    return entryPoints[((e % n) + n) % n]!.duration;
  }

  #loop(loop: number): Buffer {
    const cached = this.#renderings.get(loop);
    if (cached) return cached;
    const rendered = renderLoop(this.#media, loop);
    this.#rendered++;
    this.#renderings.set(loop, rendered);
    // The earliest loop goes first: readers move forward, so it is the one least likely asked for again.
    if (this.#renderings.size > this.#keep) this.#renderings.delete(Math.min(...this.#renderings.keys()));
    return rendered;
  }
}
