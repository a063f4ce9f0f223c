// The start of a PES packet: its timestamps (PTS, DTS) and whether its access unit is a key frame, read
// from the transport packet that carries the PES header (payload_unit_start). ISO/IEC 13818-1, 2.4.3.6.
import { PACKET_SIZE, payloadOffsetAt, randomAccessAt, unitStartAt, wrapTimestamp } from './packet.ts';
import type { Codec } from './psi.ts';

export interface PesTimestamps {
  pts: number | undefined;
  dts: number | undefined;
}

/** Stream ids whose PES header has no optional fields (so no timestamps): ISO/IEC 13818-1 table 2-22. */
const NO_HEADER_IDS = new Set([0xbc, 0xbe, 0xbf, 0xf0, 0xf1, 0xf2, 0xf8, 0xff]);

/** Offset of the PES header's flags byte (PTS_DTS_flags) when the packet starts a PES with one, else -1. */
function pesFlagsAt(buf: Uint8Array, at: number): number {
  if (!unitStartAt(buf, at)) return -1;
  const p = payloadOffsetAt(buf, at);
  if (p < 0 || p + 9 > at + PACKET_SIZE) return -1;
  if (buf[p] !== 0 || buf[p + 1] !== 0 || buf[p + 2] !== 1 || NO_HEADER_IDS.has(buf[p + 3]!)) return -1;
  return p + 7;
}

function readTimestamp(buf: Uint8Array, i: number): number {
  return (
    ((buf[i]! >> 1) & 0x07) * 2 ** 30 +
    (buf[i + 1]! << 22) +
    ((buf[i + 2]! >> 1) << 15) +
    (buf[i + 3]! << 7) +
    (buf[i + 4]! >> 1)
  );
}

function writeTimestamp(buf: Uint8Array, i: number, ticks: number): void {
  const t = wrapTimestamp(ticks);
  const high = Math.floor(t / 2 ** 30);
  const low = t % 2 ** 30;
  buf[i] = (buf[i]! & 0xf0) | (high << 1) | 1;
  buf[i + 1] = (low >> 22) & 0xff;
  buf[i + 2] = (((low >> 15) & 0x7f) << 1) | 1;
  buf[i + 3] = (low >> 7) & 0xff;
  buf[i + 4] = ((low & 0x7f) << 1) | 1;
}

/** The PTS and DTS of the PES that starts in the packet at `at` (undefined where absent). */
export function pesTimestampsAt(buf: Uint8Array, at: number): PesTimestamps {
  const f = pesFlagsAt(buf, at);
  const flags = f < 0 ? 0 : buf[f]! >> 6;
  if (flags < 2 || f + 2 + (flags === 3 ? 10 : 5) > at + PACKET_SIZE)
    return { pts: undefined, dts: undefined };
  const pts = readTimestamp(buf, f + 2);
  return { pts, dts: flags === 3 ? readTimestamp(buf, f + 7) : undefined };
}

/** The decode time of the PES that starts in the packet at `at`: its DTS, else its PTS (undefined: neither). */
export function decodeTimeAt(buf: Uint8Array, at: number): number | undefined {
  const { pts, dts } = pesTimestampsAt(buf, at);
  return dts ?? pts;
}

/**
 * Moves the PTS and DTS of the PES that starts at `at` by `delta` ticks (modulo 2^33), in place. Returns
 * false when the packet starts no PES with timestamps.
 */
export function shiftPesTimestampsAt(buf: Uint8Array, at: number, delta: number): boolean {
  const f = pesFlagsAt(buf, at);
  const flags = f < 0 ? 0 : buf[f]! >> 6;
  if (flags < 2 || f + 2 + (flags === 3 ? 10 : 5) > at + PACKET_SIZE) return false;
  writeTimestamp(buf, f + 2, readTimestamp(buf, f + 2) + delta);
  if (flags === 3) writeTimestamp(buf, f + 7, readTimestamp(buf, f + 7) + delta);
  return true;
}

/** Does this start code (the byte after 00 00 01) open a point a decoder can start from? */
function isKeyStartCode(codec: Codec | undefined, code: number): boolean {
  switch (codec) {
    case 'h264': {
      const type = code & 0x1f;
      return type === 5 || type === 7; // IDR slice, or a sequence parameter set (broadcast I frames carry one)
    }
    case 'hevc': {
      const type = (code >> 1) & 0x3f;
      return (type >= 16 && type <= 23) || type === 32 || type === 33; // IRAP, VPS, SPS
    }
    case 'mpeg1video':
    case 'mpeg2video':
      return code === 0xb3 || code === 0xb8; // sequence header, GOP header
    case 'mpeg4':
      return code === 0xb0 || code === 0xb3 || (code >= 0x20 && code <= 0x2f); // VOS, GOV, VOL
    default:
      return false;
  }
}

/**
 * Does the PES starting in the packet at `at` begin with a key frame? True when the muxer marked the packet
 * (random_access_indicator), or when the elementary stream's first bytes in this packet hold a start code
 * a decoder can begin at (an H.264 IDR or SPS, an HEVC IRAP, an MPEG-2 sequence or GOP header).
 */
export function keyFrameAt(buf: Uint8Array, at: number, codec: Codec | undefined): boolean {
  if (!unitStartAt(buf, at)) return false;
  if (randomAccessAt(buf, at)) return true;
  const f = pesFlagsAt(buf, at);
  if (f < 0) return false;
  const end = at + PACKET_SIZE;
  for (let i = f + 2 + buf[f + 1]!; i + 3 < end; i++) {
    if (buf[i] === 0 && buf[i + 1] === 0 && buf[i + 2] === 1) {
      if (isKeyStartCode(codec, buf[i + 3]!)) return true;
      i += 2;
    }
  }
  return false;
}
