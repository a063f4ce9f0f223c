// The clip a channel is made of, and what the timeline needs to know about it to loop it seamlessly: how long
// it lasts (D, from its video), how many packets one loop takes at its own bitrate (padded with null packets
// to exactly that), how far each PID's continuity counter moves per loop, where its PCRs and PES headers
// sit, and where each GOP starts (for HLS segments).
import { readFileSync } from 'node:fs';
import {
  NULL_PID,
  PACKET_SIZE,
  PAT_PID,
  ProgramTracker,
  TIMESTAMP_HZ,
  hasPayloadAt,
  inspectTs,
  nullPacket,
  pcrAt,
  pesTimestampsAt,
  pidAt,
  timestampDelta,
  unitStartAt,
  type Codec,
} from '@acefleet/mpegts';

export interface Gop {
  /** Packet (index in the loop) where its HLS segment starts: the PAT in front of the key frame. */
  start: number;
  /** PTS of the key frame. */
  pts: number;
  /** Ticks until the next GOP's key frame (the last one's runs into the next loop). */
  duration: number;
}

export interface Media {
  readonly path: string;
  /** One loop: the clip's packets, then null packets up to `packets`. */
  readonly bytes: Buffer;
  readonly packets: number;
  /** Length of one loop in 90 kHz ticks: the video's frames times the frame duration. */
  readonly durationTicks: number;
  /** The clip's own bitrate: `packets` in `durationTicks`. */
  readonly bitrateBps: number;
  /** The PCR a packet at index 0 would carry (PCRs are rewritten as `pcrOrigin + n * D / packets`). */
  readonly pcrOrigin: number;
  /** Packets with payload per PID in one loop: how far its continuity counter moves per loop. */
  readonly payloadPackets: ReadonlyMap<number, number>;
  /** Indices of the packets that carry a PCR, and of those that start a PES with timestamps. */
  readonly pcrPackets: readonly number[];
  readonly pesPackets: readonly number[];
  readonly videoPid: number;
  readonly videoCodec: Codec | undefined;
  readonly audioPids: readonly number[];
  readonly gops: readonly Gop[];
}

export class MediaError extends Error {
  override name = 'MediaError';
  readonly code = 'MEDIA_UNAVAILABLE';
}

function readClip(path: string): Buffer {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (cause) {
    throw new MediaError(
      `media file ${path} is missing: run \`npm run build -w @acefleet/ace-sim\` (tools/ace-sim/scripts/make-media.sh)`,
      { cause },
    );
  }
  const bytes = raw.subarray(0, raw.length - (raw.length % PACKET_SIZE));
  if (bytes.length === 0) throw new MediaError(`media file ${path} holds no TS packet`);
  return bytes;
}

/** The clip checked as a player would read it: one programme with video, no break of its own. */
function checkClip(path: string, bytes: Buffer): ReturnType<typeof inspectTs> {
  const report = inspectTs(bytes);
  const fail = (why: string): never => {
    throw new MediaError(`media file ${path}: ${why}`);
  };
  if (report.syncErrors > 0) fail(`not MPEG-TS (${report.syncErrors} bytes without sync)`);
  if (!report.map) fail('no PAT/PMT');
  if (!report.map!.streams.some((s) => s.kind === 'video')) fail('no video stream');
  const breaks = report.continuityErrors.length + report.timestampJumps.length + report.pcrJumps.length;
  if (breaks > 0) fail(`${breaks} continuity or timestamp breaks of its own: it cannot loop seamlessly`);
  return report;
}

/** Ticks per frame: the most common step between successive video DTS. */
function frameTicks(steps: number[]): number {
  const counts = new Map<number, number>();
  for (const s of steps) counts.set(s, (counts.get(s) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 0;
}

export function loadMedia(path: string): Media {
  const clip = readClip(path);
  const report = checkClip(path, clip);
  const map = report.map!;
  const video = map.streams.find((s) => s.kind === 'video')!;
  const clipPackets = clip.length / PACKET_SIZE;

  const payloadPackets = new Map<number, number>();
  const pcrs: [number, number][] = [];
  const pesPackets: number[] = [];
  const videoDts: number[] = [];
  for (let n = 0; n < clipPackets; n++) {
    const at = n * PACKET_SIZE;
    const pid = pidAt(clip, at);
    if (pid === NULL_PID) continue;
    if (hasPayloadAt(clip, at)) payloadPackets.set(pid, (payloadPackets.get(pid) ?? 0) + 1);
    const pcr = pcrAt(clip, at);
    if (pcr !== undefined && pid === map.pcrPid) pcrs.push([n, pcr]);
    const { pts, dts } = pesTimestampsAt(clip, at);
    if (pts === undefined) continue;
    pesPackets.push(n);
    if (pid === video.pid) videoDts.push(dts ?? pts);
  }
  const fail = (why: string): never => {
    throw new MediaError(`media file ${path}: ${why}`);
  };
  const frame = frameTicks(videoDts.slice(1).map((d, i) => timestampDelta(d, videoDts[i]!)));
  if (frame <= 0) fail('fewer than two video frames');
  const durationTicks = timestampDelta(videoDts.at(-1)!, videoDts[0]!) + frame;
  const [first, last] = [pcrs[0], pcrs.at(-1)];
  if (!first || !last || last[0] === first[0]) fail('fewer than two PCRs');
  const ticksPerPacket = timestampDelta(last![1], first![1]) / (last![0] - first![0]);
  const packets = Math.round(durationTicks / ticksPerPacket);
  if (packets < clipPackets) {
    fail(`${clipPackets} packets are more than its video's ${durationTicks / TIMESTAMP_HZ} s at its bitrate`);
  }
  const bytes = Buffer.concat([clip, ...Array.from({ length: packets - clipPackets }, nullPacket)]);
  return {
    path,
    bytes,
    packets,
    durationTicks,
    bitrateBps: Math.round((packets * PACKET_SIZE * 8 * TIMESTAMP_HZ) / durationTicks),
    pcrOrigin: first![1] - (first![0] * durationTicks) / packets,
    payloadPackets,
    pcrPackets: pcrs.map(([n]) => n),
    pesPackets,
    videoPid: video.pid,
    videoCodec: video.codec,
    audioPids: map.streams.filter((s) => s.kind === 'audio').map((s) => s.pid),
    gops: gopsOf(path, bytes, report.keyFrames, {
      videoPid: video.pid,
      pmtPid: pmtPidOf(clip),
      durationTicks,
    }),
  };
}

function pmtPidOf(clip: Buffer): number {
  const tracker = new ProgramTracker();
  tracker.scan(clip);
  const pmt = tracker.currentTables?.pmt[0];
  return pmt ? pidAt(pmt, 0) : -1;
}

/**
 * Each key frame with the PAT in front of it (ffmpeg writes PAT and PMT before every key frame), so an HLS
 * segment can start with the tables and the key frame. A clip without them cannot be cut into segments.
 */
function gopsOf(
  path: string,
  bytes: Buffer,
  keyFrames: number[],
  clip: { videoPid: number; pmtPid: number; durationTicks: number },
): Gop[] {
  if (keyFrames.length === 0) throw new MediaError(`media file ${path}: no video key frame`);
  const ptsOf = (n: number): number => pesTimestampsAt(bytes, n * PACKET_SIZE).pts ?? 0;
  const keys = keyFrames.map((at) => at / PACKET_SIZE);
  return keys.map((key, i) => {
    // Back from the key frame to the PAT, over anything but video (nulls, PMT, SDT, PCR-only, audio).
    let start = -1;
    let pmt = false;
    for (let n = key - 1; n >= 0; n--) {
      const at = n * PACKET_SIZE;
      const pid = pidAt(bytes, at);
      if (pid === PAT_PID && unitStartAt(bytes, at)) {
        start = n;
        break;
      }
      if (pid === clip.pmtPid) pmt = true;
      if (pid === clip.videoPid && hasPayloadAt(bytes, at)) break;
    }
    if (start < 0 || !pmt) {
      throw new MediaError(`media file ${path}: no PAT/PMT in front of the key frame at packet ${key}`);
    }
    const next = keys[i + 1];
    const nextPts = next === undefined ? ptsOf(keys[0]!) + clip.durationTicks : ptsOf(next);
    return { start, pts: ptsOf(key), duration: timestampDelta(nextPts, ptsOf(key)) };
  });
}
