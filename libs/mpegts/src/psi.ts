// Program-specific information: the PAT (which PID carries each programme's map) and the PMT (which PIDs
// carry the programme's video and audio, and which carries its clock). ISO/IEC 13818-1, 2.4.4.
import { PACKET_SIZE, payloadOffsetAt, unitStartAt } from './packet.ts';

export type StreamKind = 'video' | 'audio' | 'other';

export interface ElementaryStream {
  pid: number;
  streamType: number;
  kind: StreamKind;
  /** The codec, where the stream type (or its descriptors) names one. */
  codec: Codec | undefined;
}

export type Codec =
  'mpeg1video' | 'mpeg2video' | 'mpeg4' | 'h264' | 'hevc' | 'mpegaudio' | 'aac' | 'ac3' | 'eac3';

export interface Pat {
  version: number;
  /** programme number → PMT PID (programme 0, the network PID, left out). */
  programs: Map<number, number>;
}

export interface Pmt {
  programNumber: number;
  version: number;
  pcrPid: number;
  streams: ElementaryStream[];
}

const STREAM_TYPES: Record<number, [StreamKind, Codec | undefined]> = {
  0x01: ['video', 'mpeg1video'],
  0x02: ['video', 'mpeg2video'],
  0x10: ['video', 'mpeg4'],
  0x1b: ['video', 'h264'],
  0x24: ['video', 'hevc'],
  0x42: ['video', undefined], // AVS
  0xea: ['video', undefined], // VC-1
  0x03: ['audio', 'mpegaudio'],
  0x04: ['audio', 'mpegaudio'],
  0x0f: ['audio', 'aac'],
  0x11: ['audio', 'aac'],
  0x81: ['audio', 'ac3'],
  0x87: ['audio', 'eac3'],
};

/** Descriptors that make a private-data stream (type 0x06) audio, as DVB signals AC-3, E-AC-3, DTS and AAC. */
const AUDIO_DESCRIPTORS: Record<number, Codec | undefined> = {
  0x6a: 'ac3',
  0x7a: 'eac3',
  0x7b: undefined,
  0x7c: 'aac',
};
/** registration_descriptor format identifiers. */
const REGISTRATIONS: Record<string, [StreamKind, Codec | undefined]> = {
  'AC-3': ['audio', 'ac3'],
  EAC3: ['audio', 'eac3'],
  Opus: ['audio', undefined],
  HEVC: ['video', 'hevc'],
  BSSD: ['audio', undefined],
};

function classify(streamType: number, descriptors: Uint8Array): [StreamKind, Codec | undefined] {
  const known = STREAM_TYPES[streamType];
  if (known) return known;
  for (let i = 0; i + 2 <= descriptors.length; i += 2 + descriptors[i + 1]!) {
    const tag = descriptors[i]!;
    if (Object.hasOwn(AUDIO_DESCRIPTORS, tag)) return ['audio', AUDIO_DESCRIPTORS[tag]];
    if (tag === 0x05 && descriptors[i + 1]! >= 4) {
      const id = String.fromCharCode(...descriptors.subarray(i + 2, i + 6));
      const registered = REGISTRATIONS[id];
      if (registered) return registered;
    }
  }
  return ['other', undefined];
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    table[i] = c >>> 0;
  }
  return table;
})();

/** CRC-32/MPEG-2 of a section (over the whole section, its CRC included, it is 0 when intact). */
export function sectionCrc(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ b) & 0xff]!) >>> 0;
  return crc >>> 0;
}

/** Length of the section at the start of `s` (table id, header and CRC included), or -1 while unknown. */
function sectionLength(s: Uint8Array): number {
  return s.length < 3 ? -1 : 3 + (((s[1]! & 0x0f) << 8) | s[2]!);
}

/**
 * Reassembles the PSI sections of one PID from its packets. A section usually fits in one packet; a longer
 * one is collected over the packets that follow (a lost packet drops it). Only whole sections whose CRC
 * holds come out.
 */
export class SectionReader {
  private partial: Buffer | undefined;

  /** The section completed by the packet at `at`, if any. */
  push(buf: Uint8Array, at: number): Buffer | undefined {
    const payload = payloadOffsetAt(buf, at);
    if (payload < 0) return undefined;
    const end = at + PACKET_SIZE;
    let bytes: Buffer;
    if (unitStartAt(buf, at)) {
      const start = payload + 1 + buf[payload]!;
      if (start >= end) return (this.partial = undefined);
      bytes = Buffer.from(buf.subarray(start, end));
    } else if (this.partial) bytes = Buffer.concat([this.partial, buf.subarray(payload, end)]);
    else return undefined;
    const length = sectionLength(bytes);
    if (length < 0 || bytes.length < length) {
      this.partial = length > 1024 ? undefined : bytes;
      return undefined;
    }
    this.partial = undefined;
    const section = bytes.subarray(0, length);
    return length >= 12 && sectionCrc(section) === 0 ? section : undefined;
  }
}

/** The PAT in a whole section (table id 0), or undefined. */
export function parsePat(section: Uint8Array): Pat | undefined {
  if (section[0] !== 0x00 || section.length < 12 || (section[5]! & 0x01) === 0) return undefined;
  const programs = new Map<number, number>();
  for (let i = 8; i + 4 <= section.length - 4; i += 4) {
    const number = (section[i]! << 8) | section[i + 1]!;
    if (number !== 0) programs.set(number, ((section[i + 2]! & 0x1f) << 8) | section[i + 3]!);
  }
  return { version: (section[5]! >> 1) & 0x1f, programs };
}

/** The PMT in a whole section (table id 2), or undefined. */
export function parsePmt(section: Uint8Array): Pmt | undefined {
  if (section[0] !== 0x02 || section.length < 16 || (section[5]! & 0x01) === 0) return undefined;
  const end = section.length - 4;
  const infoLength = ((section[10]! & 0x0f) << 8) | section[11]!;
  const streams: ElementaryStream[] = [];
  for (let i = 12 + infoLength; i + 5 <= end;) {
    const streamType = section[i]!;
    const pid = ((section[i + 1]! & 0x1f) << 8) | section[i + 2]!;
    const esInfo = ((section[i + 3]! & 0x0f) << 8) | section[i + 4]!;
    const [kind, codec] = classify(streamType, section.subarray(i + 5, Math.min(end, i + 5 + esInfo)));
    streams.push({ pid, streamType, kind, codec });
    i += 5 + esInfo;
  }
  return {
    programNumber: (section[3]! << 8) | section[4]!,
    version: (section[5]! >> 1) & 0x1f,
    pcrPid: ((section[8]! & 0x1f) << 8) | section[9]!,
    streams,
  };
}

/** The version_number of the section that starts in the packet at `at` (a PAT or PMT), or -1. */
export function sectionVersionAt(buf: Uint8Array, at: number): number {
  const start = sectionStartAt(buf, at);
  return start < 0 ? -1 : (buf[start + 5]! >> 1) & 0x1f;
}

/**
 * Set the version_number of the section that starts and ends in the packet at `at`, in place, and its CRC
 * to match. False (nothing changed) when the packet starts no section, or the section runs on into the next
 * packet: only one-packet tables (every PAT and PMT of a one-programme stream) are rewritten.
 */
export function setSectionVersionAt(buf: Uint8Array, at: number, version: number): boolean {
  const start = sectionStartAt(buf, at);
  if (start < 0) return false;
  const length = 3 + (((buf[start + 1]! & 0x0f) << 8) | buf[start + 2]!);
  if (length < 12 || start + length > at + PACKET_SIZE) return false;
  buf[start + 5] = (buf[start + 5]! & 0xc1) | ((version & 0x1f) << 1);
  const crc = sectionCrc(buf.subarray(start, start + length - 4));
  buf[start + length - 4] = crc >>> 24;
  buf[start + length - 3] = (crc >>> 16) & 0xff;
  buf[start + length - 2] = (crc >>> 8) & 0xff;
  buf[start + length - 1] = crc & 0xff;
  return true;
}

/** Offset of the section that starts in the packet at `at` (after its pointer field), or -1. */
function sectionStartAt(buf: Uint8Array, at: number): number {
  if (!unitStartAt(buf, at)) return -1;
  const payload = payloadOffsetAt(buf, at);
  if (payload < 0) return -1;
  const start = payload + 1 + buf[payload]!;
  return start + 8 <= at + PACKET_SIZE ? start : -1;
}
