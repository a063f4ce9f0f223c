// The clip a channel is made of, and what the timeline needs to know about it to loop it seamlessly: how long
// it lasts (D, from its video, or a radio channel's audio), how many packets one loop takes at its own
// bitrate (padded with null packets to exactly that), how far each PID's continuity counter moves per loop,
// where its PCRs and PES headers sit, and where a player can start (for HLS segments).
import { readFileSync } from 'node:fs';
import {
  NULL_PID,
  PACKET_SIZE,
  PAT_PID,
  ProgramTracker,
  TIMESTAMP_HZ,
  hasPayloadAt,
  payloadOffsetAt,
  inspectTs,
  nullPacket,
  pcrAt,
  pesTimestampsAt,
  pidAt,
  timestampDelta,
  unitStartAt,
  type Codec,
} from '@acefleet/mpegts';

/** A place a player can start at: a key frame (a radio channel: an audio PES) with PAT and PMT in front. */
export interface EntryPoint {
  /** Packet (index in the loop) where an HLS segment starting there begins: the PAT in front. */
  start: number;
  /** PTS of the key frame. */
  pts: number;
  /** Ticks until the next entry point (the last one's runs into the next loop). */
  duration: number;
}

export interface Media {
  readonly path: string;
  /** One loop: the clip's packets, then null packets up to `packets`. */
  readonly bytes: Buffer;
  readonly packets: number;
  /** Length of one loop in 90 kHz ticks: the video's frames (a radio channel: its audio), end to end. */
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
  /** -1 for a radio channel. */
  readonly videoPid: number;
  readonly videoCodec: Codec | undefined;
  readonly audioPids: readonly number[];
  readonly entryPoints: readonly EntryPoint[];
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

/** The clip checked as a player would read it: one programme with video or audio, no break of its own. */
function checkClip(path: string, bytes: Buffer): ReturnType<typeof inspectTs> {
  const report = inspectTs(bytes);
  const fail = (why: string): never => {
    throw new MediaError(`media file ${path}: ${why}`);
  };
  if (report.syncErrors > 0) fail(`not MPEG-TS (${report.syncErrors} bytes without sync)`);
  if (!report.map) fail('no PAT/PMT');
  if (!report.map!.streams.some((s) => s.kind !== 'other')) fail('neither video nor audio');
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

/** The PES of one PID as the loop needs them: where they start, their timestamp and their bytes of payload. */
interface Pes {
  ts: number;
  bytes: number;
}

/** Bytes of elementary stream in the packet at `at` (a PES header, where one starts, left out). */
function esBytesAt(clip: Buffer, at: number): number {
  const payload = payloadOffsetAt(clip, at);
  if (payload < 0) return 0;
  const header = unitStartAt(clip, at) ? 9 + (clip[payload + 8] ?? 0) : 0;
  return Math.max(0, at + PACKET_SIZE - payload - header);
}

/**
 * Length of the clip in ticks, from its reference stream (video, or a radio channel's audio): from the first
 * PES to the last, plus the last one's own duration (a video frame; for audio, its bytes at the rate of the
 * PES before it).
 */
function loopTicksOf(pes: Pes[], video: boolean): number {
  const steps = pes.slice(1).map((p, i) => timestampDelta(p.ts, pes[i]!.ts));
  const last = pes.at(-1)!;
  const before = pes.at(-2)!;
  const lastTicks = video ? frameTicks(steps) : (last.bytes * steps.at(-1)!) / before.bytes;
  return Math.round(timestampDelta(last.ts, pes[0]!.ts) + lastTicks);
}

export function loadMedia(path: string): Media {
  const clip = readClip(path);
  const report = checkClip(path, clip);
  const map = report.map!;
  const video = map.streams.find((s) => s.kind === 'video');
  const audioPids = map.streams.filter((s) => s.kind === 'audio').map((s) => s.pid);
  // The stream the loop is measured on and HLS segments start in: video, or a radio channel's audio.
  const reference = video?.pid ?? audioPids[0]!;
  const clipPackets = clip.length / PACKET_SIZE;

  const payloadPackets = new Map<number, number>();
  const pcrs: [number, number][] = [];
  const pesPackets: number[] = [];
  const pes: Pes[] = [];
  for (let n = 0; n < clipPackets; n++) {
    const at = n * PACKET_SIZE;
    const pid = pidAt(clip, at);
    if (pid === NULL_PID) continue;
    if (hasPayloadAt(clip, at)) payloadPackets.set(pid, (payloadPackets.get(pid) ?? 0) + 1);
    const pcr = pcrAt(clip, at);
    if (pcr !== undefined && pid === map.pcrPid) pcrs.push([n, pcr]);
    const { pts, dts } = pesTimestampsAt(clip, at);
    if (pts !== undefined) pesPackets.push(n);
    if (pid !== reference) continue;
    if (pts !== undefined) pes.push({ ts: dts ?? pts, bytes: 0 });
    const current = pes.at(-1);
    if (current) current.bytes += esBytesAt(clip, at);
  }
  const fail = (why: string): never => {
    throw new MediaError(`media file ${path}: ${why}`);
  };
  if (pes.length < 2) fail(`fewer than two PES on PID ${reference}`);
  const durationTicks = loopTicksOf(pes, video !== undefined);
  const [first, last] = [pcrs[0], pcrs.at(-1)];
  if (!first || !last || last[0] === first[0]) fail('fewer than two PCRs');
  const ticksPerPacket = timestampDelta(last![1], first![1]) / (last![0] - first![0]);
  const packets = Math.round(durationTicks / ticksPerPacket);
  if (packets < clipPackets) {
    fail(`${clipPackets} packets are more than its ${durationTicks / TIMESTAMP_HZ} s hold at its bitrate`);
  }
  const bytes = Buffer.concat([clip, ...Array.from({ length: packets - clipPackets }, nullPacket)]);
  const candidates = video ? report.keyFrames.map((at) => at / PACKET_SIZE) : pesStarts(clip, reference);
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
    videoPid: video?.pid ?? -1,
    videoCodec: video?.codec,
    audioPids,
    entryPoints: entryPointsOf(path, bytes, candidates, { reference, pmtPid: pmtPidOf(clip), durationTicks }),
  };
}

function pesStarts(clip: Buffer, pid: number): number[] {
  const starts: number[] = [];
  for (let at = 0; at < clip.length; at += PACKET_SIZE) {
    if (pidAt(clip, at) === pid && pesTimestampsAt(clip, at).pts !== undefined) starts.push(at / PACKET_SIZE);
  }
  return starts;
}

function pmtPidOf(clip: Buffer): number {
  const tracker = new ProgramTracker();
  tracker.scan(clip);
  const pmt = tracker.currentTables?.pmt[0];
  return pmt ? pidAt(pmt, 0) : -1;
}

/**
 * The places a player (an HLS segment) can start: each key frame (a radio channel: each audio PES) with a
 * PAT and PMT in front of it and nothing of the reference stream between (ffmpeg writes PAT and PMT before
 * every key frame). Places without the tables in front are left out; a clip with none cannot be cut.
 */
function entryPointsOf(
  path: string,
  bytes: Buffer,
  candidates: number[],
  clip: { reference: number; pmtPid: number; durationTicks: number },
): EntryPoint[] {
  const ptsOf = (n: number): number => pesTimestampsAt(bytes, n * PACKET_SIZE).pts ?? 0;
  const points: { start: number; key: number }[] = [];
  for (const key of candidates) {
    let pmt = false;
    for (let n = key - 1; n >= 0; n--) {
      const at = n * PACKET_SIZE;
      const pid = pidAt(bytes, at);
      if (pid === PAT_PID && unitStartAt(bytes, at)) {
        if (pmt) points.push({ start: n, key });
        break;
      }
      if (pid === clip.pmtPid) pmt = true;
      if (pid === clip.reference && hasPayloadAt(bytes, at)) break;
    }
  }
  if (points.length === 0) {
    throw new MediaError(
      `media file ${path}: no key frame with a PAT/PMT in front: HLS cannot start anywhere`,
    );
  }
  return points.map(({ start, key }, i) => {
    const next = points[i + 1];
    const nextPts = next === undefined ? ptsOf(points[0]!.key) + clip.durationTicks : ptsOf(next.key);
    return { start, pts: ptsOf(key), duration: timestampDelta(nextPts, ptsOf(key)) };
  });
}
