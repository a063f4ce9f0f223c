import {
  PACKET_SIZE,
  PAT_PID,
  TIMESTAMP_HZ,
  continuityAt,
  pesTimestampsAt,
  pidAt,
  timestampDelta,
  unitStartAt,
} from '@acefleet/mpegts';

/**
 * What a stream's players last got on each PID: its continuity counter, and (from the packets that start a
 * PES) its last two decode times. A source that takes over has its counters rewritten to follow on from
 * these, and its clock moved to run on from them (see Splice), so the output never jumps.
 */
export class OutputContinuity {
  private readonly last = new Int8Array(8192).fill(-1);
  private readonly times = new Map<number, UnitTimes>();

  /** Whole packets that went out, in order. */
  note(views: readonly Buffer[]): void {
    const last = this.last;
    for (const view of views) {
      for (let at = 0; at + PACKET_SIZE <= view.length; at += PACKET_SIZE) {
        const pid = pidAt(view, at);
        last[pid] = continuityAt(view, at);
        if (!unitStartAt(view, at) || pid === PAT_PID) continue;
        const { pts, dts } = pesTimestampsAt(view, at);
        const time = dts ?? pts;
        if (time === undefined || pts === undefined) continue;
        const before = this.times.get(pid);
        const step = before ? timestampDelta(time, before.last) : 0;
        const later = before && timestampDelta(before.maxPts, pts) > 0 && step > 0 && step < MAX_FRAME_TICKS;
        this.times.set(pid, {
          last: time,
          step: step > 0 && step < MAX_FRAME_TICKS ? step : (before?.step ?? 0),
          maxPts: later ? before.maxPts : pts,
        });
      }
    }
  }

  /** The counter of the last packet on `pid` that went out, or -1: the PID is new to the players. */
  lastOf(pid: number): number {
    return this.last[pid]!;
  }

  /** The decode time of the last unit on `pid` that went out, the step between its last two, and the latest PTS. */
  timeOf(pid: number): UnitTimes | undefined {
    return this.times.get(pid);
  }
}

/** What went out on a PID, in time: its last unit's decode time, the step between units, the latest PTS. */
export interface UnitTimes {
  last: number;
  step: number;
  /** Frames are shown in PTS order: a cut after a reference frame leaves one shown later than the last DTS. */
  maxPts: number;
}

/** A step between two frames longer than this is a gap, not a frame's duration. */
const MAX_FRAME_TICKS = TIMESTAMP_HZ;
