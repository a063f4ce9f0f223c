// frozenVideo / frozenAudio on one playback body: the PIDs of a kind stop carrying payload while the rest of
// the multiplex (the other kind, PAT/PMT, the PCR) goes on, as when a broadcaster's encoder dies and its
// multiplexer does not. Stuffing takes the frozen packets' place, so the bitrate and the timeline's pacing
// stay as they were; a PCR on a frozen PID goes on in a packet without payload. A PID stops at the start of
// its next PES (the last frame stays whole) and, once the fault is off, resumes at a key frame (audio: a
// PES start) behind a packet flagging the break in its counter.
import {
  PACKET_SIZE,
  continuityAt,
  discontinuityPacket,
  hasPayloadAt,
  keyFrameAt,
  nullPacket,
  pcrAt,
  pcrPacket,
  pidAt,
  unitStartAt,
} from '@acefleet/mpegts';
import type { Media } from './media.ts';

export type FreezeKind = 'video' | 'audio';
type State = 'playing' | 'frozen' | 'resuming';

interface FrozenPid {
  kind: FreezeKind;
  state: State;
  /** The counter of the last payload packet the reader got: packets without payload keep it. */
  cc: number;
}

const NULL = nullPacket();

export class Freezer {
  readonly #pids = new Map<number, FrozenPid>();
  readonly #media: Media;
  /** PIDs not simply playing (frozen, or waiting for their resume point): while 0, pieces pass untouched. */
  #unsettled = 0;

  constructor(media: Media) {
    this.#media = media;
    if (media.videoPid >= 0) this.#pids.set(media.videoPid, { kind: 'video', state: 'playing', cc: 0 });
    for (const pid of media.audioPids) this.#pids.set(pid, { kind: 'audio', state: 'playing', cc: 0 });
  }

  /**
   * The packets to write for `pieces` of the channel while `frozen` kinds are switched off: the pieces
   * themselves (no copy) when nothing is frozen or coming back, else a rewritten copy.
   */
  apply(pieces: Buffer[], frozen: ReadonlySet<FreezeKind>): Buffer[] {
    if (frozen.size === 0 && this.#unsettled === 0) return pieces;
    const out: Buffer[] = [];
    for (const piece of pieces) {
      for (let at = 0; at < piece.length; at += PACKET_SIZE) {
        const packet = piece.subarray(at, at + PACKET_SIZE);
        const pid = this.#pids.get(pidAt(packet, 0));
        out.push(pid ? this.#step(pid, packet, frozen.has(pid.kind)) : packet);
      }
    }
    return [Buffer.concat(out)];
  }

  #move(pid: FrozenPid, to: State): void {
    this.#unsettled += (to === 'playing' ? 0 : 1) - (pid.state === 'playing' ? 0 : 1);
    pid.state = to;
  }

  /** One packet of a PID that may freeze: what goes out in its place. */
  #step(pid: FrozenPid, packet: Buffer, frozen: boolean): Buffer {
    const start = unitStartAt(packet, 0) && hasPayloadAt(packet, 0);
    if (pid.state === 'playing' && frozen && start) {
      this.#move(pid, 'frozen');
      pid.cc = (continuityAt(packet, 0) + 15) & 0x0f;
    } else if (pid.state === 'frozen' && !frozen) this.#move(pid, 'resuming');
    else if (pid.state === 'resuming' && frozen) this.#move(pid, 'frozen');
    else if (pid.state === 'resuming' && start && this.#resumesAt(pid, packet)) {
      this.#move(pid, 'playing');
      const cc = continuityAt(packet, 0);
      return Buffer.concat([discontinuityPacket(pidAt(packet, 0), (cc + 15) & 0x0f), packet]);
    }
    if (pid.state === 'playing') return packet;
    const pcr = pcrAt(packet, 0);
    return pcr === undefined ? NULL : pcrPacket(pidAt(packet, 0), pid.cc, pcr);
  }

  #resumesAt(pid: FrozenPid, packet: Buffer): boolean {
    return pid.kind === 'audio' || keyFrameAt(packet, 0, this.#media.videoCodec);
  }
}
