// The looped clip: an MPEG-TS file, its bitrate (from its PCRs) and its PAT/PMT, which HLS segments repeat.
import { readFileSync } from 'node:fs';

export const TS_PACKET = 188;
const SYNC = 0x47;
const PCR_HZ = 90_000;

export interface Media {
  readonly path: string;
  /** Whole packets only, so a loop never splits one. */
  readonly bytes: Buffer;
  readonly bitrateBps: number;
  /** The PAT and PMT packets, so a cut of the clip can be decoded on its own. */
  readonly header: Buffer;
}

export class MediaError extends Error {
  override name = 'MediaError';
  readonly code = 'MEDIA_UNAVAILABLE';
}

const pidOf = (p: Buffer): number => ((p[1]! & 0x1f) << 8) | p[2]!;

function payloadOffset(p: Buffer): number {
  const adaptation = (p[3]! >> 4) & 0x2;
  return adaptation ? 5 + p[4]! : 4;
}

/** PCR base in 90 kHz ticks, or undefined when the packet carries none. */
function pcrOf(p: Buffer): number | undefined {
  const hasAdaptation = ((p[3]! >> 4) & 0x2) !== 0;
  if (!hasAdaptation || p[4]! === 0 || (p[5]! & 0x10) === 0) return undefined;
  return p[6]! * 2 ** 25 + p[7]! * 2 ** 17 + p[8]! * 2 ** 9 + p[9]! * 2 + (p[10]! >> 7);
}

function pmtPidOf(pat: Buffer): number | undefined {
  const at = payloadOffset(pat);
  const section = at + 1 + pat[at]!;
  const end = Math.min(section + 3 + (((pat[section + 1]! & 0x0f) << 8) | pat[section + 2]!) - 4, TS_PACKET);
  for (let i = section + 8; i + 4 <= end; i += 4) {
    const program = (pat[i]! << 8) | pat[i + 1]!;
    if (program !== 0) return ((pat[i + 2]! & 0x1f) << 8) | pat[i + 3]!;
  }
  return undefined;
}

function analyse(bytes: Buffer): { bitrateBps: number; header: Buffer } {
  let first: { index: number; pcr: number; pid: number } | undefined;
  let last: { index: number; pcr: number } | undefined;
  let pat: Buffer | undefined;
  let pmt: Buffer | undefined;
  let pmtPid: number | undefined;
  for (let index = 0; index * TS_PACKET < bytes.length; index++) {
    const p = bytes.subarray(index * TS_PACKET, (index + 1) * TS_PACKET);
    if (p[0] !== SYNC) throw new MediaError(`not MPEG-TS: no sync byte in packet ${index}`);
    const pid = pidOf(p);
    if (pid === 0 && !pat) {
      pat = p;
      pmtPid = pmtPidOf(p);
    } else if (pid === pmtPid && !pmt) pmt = p;
    const pcr = pcrOf(p);
    if (pcr === undefined) continue;
    if (!first) first = { index, pcr, pid };
    else if (pid === first.pid) last = { index, pcr };
  }
  if (!pat || !pmt) throw new MediaError('MPEG-TS without PAT/PMT');
  if (!first || !last || last.pcr <= first.pcr) throw new MediaError('MPEG-TS without usable PCRs');
  const seconds = (last.pcr - first.pcr) / PCR_HZ;
  const bitrateBps = Math.round(((last.index - first.index) * TS_PACKET * 8) / seconds);
  return { bitrateBps, header: Buffer.concat([pat, pmt]) };
}

export function loadMedia(path: string): Media {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (cause) {
    throw new MediaError(
      `media file ${path} is missing: run \`npm run build -w @acefleet/ace-sim\` (tools/ace-sim/scripts/make-media.sh)`,
      { cause },
    );
  }
  const bytes = raw.subarray(0, raw.length - (raw.length % TS_PACKET));
  if (bytes.length === 0) throw new MediaError(`media file ${path} holds no TS packet`);
  return { path, bytes, ...analyse(bytes) };
}

/**
 * `length` bytes of the clip played in a loop, starting at `offset` (both whole packets), as the
 * pieces to write: no copy.
 */
export function loopSlice(media: Media, offset: number, length: number): Buffer[] {
  const pieces: Buffer[] = [];
  const size = media.bytes.length;
  let at = offset % size;
  let left = length;
  while (left > 0) {
    const n = Math.min(left, size - at);
    pieces.push(media.bytes.subarray(at, at + n));
    left -= n;
    at = (at + n) % size;
  }
  return pieces;
}
