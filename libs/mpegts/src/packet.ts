// One 188-byte transport packet, read and patched in place at an offset of a larger buffer (a ring block, a
// socket read, a clip), so nothing is copied to look at a header. ISO/IEC 13818-1, 2.4.3.
export const PACKET_SIZE = 188;
export const SYNC_BYTE = 0x47;
export const NULL_PID = 0x1fff;
export const PAT_PID = 0;

/** MPEG-TS timestamps (PTS, DTS, PCR base) count 90 kHz ticks modulo 2^33: about 26.5 hours. */
export const TIMESTAMP_WRAP = 2 ** 33;
export const TIMESTAMP_HZ = 90_000;

export function pidAt(buf: Uint8Array, at: number): number {
  return ((buf[at + 1]! & 0x1f) << 8) | buf[at + 2]!;
}

/** payload_unit_start_indicator: a PES or a PSI section begins in this packet. */
export function unitStartAt(buf: Uint8Array, at: number): boolean {
  return (buf[at + 1]! & 0x40) !== 0;
}

export function hasPayloadAt(buf: Uint8Array, at: number): boolean {
  return (buf[at + 3]! & 0x10) !== 0;
}

function hasAdaptationAt(buf: Uint8Array, at: number): boolean {
  return (buf[at + 3]! & 0x20) !== 0;
}

export function continuityAt(buf: Uint8Array, at: number): number {
  return buf[at + 3]! & 0x0f;
}

export function setContinuityAt(buf: Uint8Array, at: number, cc: number): void {
  buf[at + 3] = (buf[at + 3]! & 0xf0) | (cc & 0x0f);
}

/** Flags byte of the adaptation field, or -1 when the packet has none (or an empty one). */
function adaptationFlagsAt(buf: Uint8Array, at: number): number {
  return hasAdaptationAt(buf, at) && buf[at + 4]! > 0 ? buf[at + 5]! : -1;
}

/** The discontinuity_indicator: a flagged break in continuity counters (and, on the PCR PID, the clock). */
export function discontinuityAt(buf: Uint8Array, at: number): boolean {
  const flags = adaptationFlagsAt(buf, at);
  return flags >= 0 && (flags & 0x80) !== 0;
}

/** The random_access_indicator: the muxer's own mark of a point to start decoding (a key frame). */
export function randomAccessAt(buf: Uint8Array, at: number): boolean {
  const flags = adaptationFlagsAt(buf, at);
  return flags >= 0 && (flags & 0x40) !== 0;
}

/** Offset of the payload within the buffer, or -1 when the packet carries none. */
export function payloadOffsetAt(buf: Uint8Array, at: number): number {
  if (!hasPayloadAt(buf, at)) return -1;
  const offset = hasAdaptationAt(buf, at) ? at + 5 + buf[at + 4]! : at + 4;
  return offset < at + PACKET_SIZE ? offset : -1;
}

function pcrFieldAt(buf: Uint8Array, at: number): number {
  const flags = adaptationFlagsAt(buf, at);
  return flags >= 0 && (flags & 0x10) !== 0 && buf[at + 4]! >= 7 ? at + 6 : -1;
}

/** The PCR base (90 kHz ticks), or undefined when the packet carries no PCR. */
export function pcrAt(buf: Uint8Array, at: number): number | undefined {
  const f = pcrFieldAt(buf, at);
  if (f < 0) return undefined;
  return (
    buf[f]! * 2 ** 25 + buf[f + 1]! * 2 ** 17 + buf[f + 2]! * 2 ** 9 + buf[f + 3]! * 2 + (buf[f + 4]! >> 7)
  );
}

/**
 * Rewrites the PCR base (90 kHz ticks, taken modulo 2^33); false if the packet carries none. The 27 MHz
 * extension (0-299) is kept unless `extension` is given.
 */
export function setPcrAt(buf: Uint8Array, at: number, base: number, extension?: number): boolean {
  const f = pcrFieldAt(buf, at);
  if (f < 0) return false;
  writePcr(buf, f, base, extension ?? ((buf[f + 4]! & 0x01) << 8) | buf[f + 5]!);
  return true;
}

function writePcr(buf: Uint8Array, f: number, base: number, extension: number): void {
  const b = wrapTimestamp(base);
  buf[f] = Math.floor(b / 2 ** 25) & 0xff;
  buf[f + 1] = Math.floor(b / 2 ** 17) & 0xff;
  buf[f + 2] = Math.floor(b / 2 ** 9) & 0xff;
  buf[f + 3] = Math.floor(b / 2) & 0xff;
  // The base's last bit, 6 reserved bits (1), the extension's top bit; then its low 8 bits.
  buf[f + 4] = ((b & 1) << 7) | 0x7e | ((extension >> 8) & 0x01);
  buf[f + 5] = extension & 0xff;
}

/** A timestamp brought into [0, 2^33). */
export function wrapTimestamp(ticks: number): number {
  return ((ticks % TIMESTAMP_WRAP) + TIMESTAMP_WRAP) % TIMESTAMP_WRAP;
}

/** `later - earlier` in ticks across the 2^33 wrap, in (-2^32, 2^32]. */
export function timestampDelta(later: number, earlier: number): number {
  const d = wrapTimestamp(later - earlier);
  return d > TIMESTAMP_WRAP / 2 ? d - TIMESTAMP_WRAP : d;
}

/** A null packet (PID 0x1FFF): players drop it; it keeps a connection alive without being media. */
export function nullPacket(): Buffer {
  const p = Buffer.alloc(PACKET_SIZE, 0xff);
  p[0] = SYNC_BYTE;
  p[1] = 0x1f;
  p[2] = 0xff;
  p[3] = 0x10;
  return p;
}

/**
 * A packet of `pid` that carries only an adaptation field with a PCR (base in 90 kHz ticks, extension 0):
 * the clock goes on while the PID carries no payload, as when a video encoder stops but the multiplex does
 * not. `cc` is the PID's last counter: a packet without payload does not advance it.
 */
export function pcrPacket(pid: number, cc: number, base: number): Buffer {
  const p = adaptationOnlyPacket(pid, cc, 0x10);
  writePcr(p, 6, base, 0);
  return p;
}

/** A packet of `pid` that is all adaptation field (no payload, counter `cc` kept), its flags byte `flags`. */
function adaptationOnlyPacket(pid: number, cc: number, flags: number): Buffer {
  const p = Buffer.alloc(PACKET_SIZE, 0xff);
  p[0] = SYNC_BYTE;
  p[1] = (pid >> 8) & 0x1f;
  p[2] = pid & 0xff;
  p[3] = 0x20 | (cc & 0x0f);
  p[4] = PACKET_SIZE - 5;
  p[5] = flags;
  return p;
}

/**
 * A packet that carries only an adaptation field with discontinuity_indicator set, for `pid`, with the
 * continuity counter `cc`. Sent just before a PID's first packet after a jump (with `cc` one below that
 * packet's), it tells demuxers the break is deliberate: a packet without payload does not advance the
 * counter, so the next one follows on from it.
 */
export function discontinuityPacket(pid: number, cc: number): Buffer {
  return adaptationOnlyPacket(pid, cc, 0x80);
}

/**
 * A copy of the packet at `at` with discontinuity_indicator set: in its adaptation field, or in one made for
 * it out of the payload's trailing stuffing (PSI packets end in 0xFF bytes). Undefined when the packet has
 * neither (flag it with a discontinuityPacket before it instead). A flagged PAT or PMT is what a PSI decoder
 * (libdvbpsi in VLC, GStreamer's) needs to take the break as deliberate: it looks only at the packets of its
 * tables.
 */
export function withDiscontinuity(buf: Uint8Array, at: number): Buffer | undefined {
  const p = Buffer.from(buf.subarray(at, at + PACKET_SIZE));
  if (hasAdaptationAt(p, 0) && p[4]! > 0) {
    p[5] = p[5]! | 0x80;
    return p;
  }
  if (
    hasAdaptationAt(p, 0) ||
    !hasPayloadAt(p, 0) ||
    p[PACKET_SIZE - 1] !== 0xff ||
    p[PACKET_SIZE - 2] !== 0xff
  )
    return undefined;
  // Two bytes of adaptation field (its length, 1, and its flags) in front of the payload, whose last two
  // stuffing bytes make the room.
  p.copy(p, 6, 4, PACKET_SIZE - 2);
  p[3] = p[3]! | 0x20;
  p[4] = 1;
  p[5] = 0x80;
  return p;
}
