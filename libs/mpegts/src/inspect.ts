// A whole-buffer check of what a player will make of some MPEG-TS: continuity counters per PID, timestamps
// that go back, where key frames start and which breaks were flagged. For tests, benchmarks and tools; a
// relay on its hot path uses ProgramTracker instead.
import {
  NULL_PID,
  PACKET_SIZE,
  SYNC_BYTE,
  continuityAt,
  discontinuityAt,
  hasPayloadAt,
  pcrAt,
  pidAt,
  timestampDelta,
} from './packet.ts';
import { decodeTimeAt } from './pes.ts';
import { ProgramTracker } from './program.ts';
import type { Pmt } from './psi.ts';

export interface ContinuityError {
  pid: number;
  /** Byte offset of the packet. */
  at: number;
  expected: number;
  got: number;
}

export interface TimestampJump {
  pid: number;
  at: number;
  /** Ticks (90 kHz) from the previous timestamp of the PID: negative when time went back. */
  delta: number;
}

export interface TsReport {
  packets: number;
  /** Bytes before the first sync byte, and packets whose sync byte is missing. */
  syncErrors: number;
  map: Pmt | undefined;
  /** Continuity counter breaks that no discontinuity_indicator announced. */
  continuityErrors: ContinuityError[];
  /** Breaks that a discontinuity_indicator announced, per PID. */
  flaggedDiscontinuities: Map<number, number>;
  /** DTS (or PTS) of a PID going back, or jumping forward more than `maxForwardTicks`, unflagged. */
  timestampJumps: TimestampJump[];
  /** PCR going back, or jumping forward more than `maxForwardTicks`, unflagged. */
  pcrJumps: TimestampJump[];
  /** Byte offsets of the packets where video key frames begin. */
  keyFrames: number[];
  /** First and last DTS (or PTS) per PID, in ticks. */
  firstTimestamp: Map<number, number>;
  lastTimestamp: Map<number, number>;
}

export interface InspectOptions {
  /** A timestamp step forward larger than this counts as a jump (default 2 s). */
  maxForwardTicks?: number;
}

/** Checks a buffer of MPEG-TS as a demuxer would read it from the first packet on. */
export function inspectTs(bytes: Buffer, opts: InspectOptions = {}): TsReport {
  const maxForward = opts.maxForwardTicks ?? 2 * 90_000;
  const report: TsReport = {
    packets: 0,
    syncErrors: 0,
    map: undefined,
    continuityErrors: [],
    flaggedDiscontinuities: new Map(),
    timestampJumps: [],
    pcrJumps: [],
    keyFrames: [],
    firstTimestamp: new Map(),
    lastTimestamp: new Map(),
  };
  const lastCc = new Map<number, number>();
  /** PIDs whose next timestamp may jump: a flagged discontinuity came since their last one. */
  const flagged = new Set<number>();
  let lastPcr: number | undefined;
  let pcrFlagged = false;
  const tracker = new ProgramTracker();
  let at = bytes.indexOf(SYNC_BYTE);
  if (at < 0) return { ...report, syncErrors: bytes.length };
  report.syncErrors += at;
  for (; at + PACKET_SIZE <= bytes.length; at += PACKET_SIZE) {
    if (bytes[at] !== SYNC_BYTE) {
      report.syncErrors++;
      continue;
    }
    report.packets++;
    const pid = pidAt(bytes, at);
    if (pid === NULL_PID) continue;
    const cc = continuityAt(bytes, at);
    const payload = hasPayloadAt(bytes, at);
    const discontinuity = discontinuityAt(bytes, at);
    const previous = lastCc.get(pid);
    if (discontinuity) {
      report.flaggedDiscontinuities.set(pid, (report.flaggedDiscontinuities.get(pid) ?? 0) + 1);
      flagged.add(pid);
      if (pid === tracker.map?.pcrPid) pcrFlagged = true;
    } else if (previous !== undefined) {
      const expected = payload ? (previous + 1) & 0x0f : previous;
      // One duplicate packet (same counter, with payload) is allowed by the standard.
      if (cc !== expected && !(payload && cc === previous))
        report.continuityErrors.push({ pid, at, expected, got: cc });
    }
    lastCc.set(pid, cc);

    const pcr = pcrAt(bytes, at);
    if (pcr !== undefined && pid === tracker.map?.pcrPid) {
      if (lastPcr !== undefined && !pcrFlagged) {
        const delta = timestampDelta(pcr, lastPcr);
        if (delta < 0 || delta > maxForward) report.pcrJumps.push({ pid, at, delta });
      }
      lastPcr = pcr;
      pcrFlagged = false;
    }
    const t = decodeTimeAt(bytes, at);
    if (t !== undefined) {
      const last = report.lastTimestamp.get(pid);
      if (last !== undefined && !flagged.has(pid)) {
        const delta = timestampDelta(t, last);
        if (delta <= 0 || delta > maxForward) report.timestampJumps.push({ pid, at, delta });
      }
      if (!report.firstTimestamp.has(pid)) report.firstTimestamp.set(pid, t);
      report.lastTimestamp.set(pid, t);
      flagged.delete(pid);
    }
    tracker.scan(bytes, at, at + PACKET_SIZE, (k) => report.keyFrames.push(k));
  }
  report.map = tracker.map;
  return report;
}
