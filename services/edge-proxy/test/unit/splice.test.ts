import { readFileSync } from 'node:fs';
import test from 'ava';
import {
  PACKET_SIZE,
  ProgramTracker,
  continuityAt,
  inspectTs,
  pcrAt,
  pidAt,
  sectionVersionAt,
  setContinuityAt,
  setPcrAt,
  setSectionVersionAt,
  shiftPesTimestampsAt,
  unitStartAt,
} from '@acefleet/mpegts';
import { repoRoot } from '@acefleet/testkit';
import { OutputContinuity } from '../../src/fanout/output-continuity.ts';
import { Splice } from '../../src/fanout/splice.ts';

/**
 * The splice as a decoder sees it, on the simulator's clip (H.264 + MP2, PAT/PMT every 100 ms): the players
 * got part of one source, then another takes over whose counters and clock are elsewhere. Pure: no sockets.
 */
const clip = readFileSync(`${repoRoot}/tools/ace-sim/media/testsrc-320x240-12s.mpegts`);
const PMT_PID = 4096;

/** The clip as another engine would send it: every counter `ccShift` on, every clock `ticks` later. */
function otherEngine(ccShift: number, ticks: number): Buffer {
  const b = Buffer.from(clip);
  for (let at = 0; at < b.length; at += PACKET_SIZE) {
    setContinuityAt(b, at, continuityAt(b, at) + ccShift);
    if (unitStartAt(b, at)) shiftPesTimestampsAt(b, at, ticks);
    const pcr = pcrAt(b, at);
    if (pcr !== undefined) setPcrAt(b, at, pcr + ticks);
  }
  return b;
}

/** The first `packets` of the clip as the players got them from the first engine. */
function played(packets: number): { sent: Buffer; output: OutputContinuity; program: ProgramTracker } {
  const sent = clip.subarray(0, packets * PACKET_SIZE);
  const output = new OutputContinuity();
  const program = new ProgramTracker();
  program.scan(sent);
  output.note([sent]);
  return { sent, output, program };
}

/** `source` from `from` on, held in chunks then opened and fed: what the players get after the switch. */
function splice(source: Buffer, from: number, output: OutputContinuity, previous: ProgramTracker): Buffer {
  const s = new Splice(new ProgramTracker(), output);
  const chunk = 64 * PACKET_SIZE;
  let at = from * PACKET_SIZE;
  const out: Buffer[] = [];
  for (; !s.ready && at < source.length; at += chunk)
    s.hold([Buffer.from(source.subarray(at, at + chunk))], 0);
  out.push(...s.open(previous));
  for (; at < source.length; at += chunk) out.push(...s.feed([Buffer.from(source.subarray(at, at + chunk))]));
  return Buffer.concat(out);
}

test('splice - counters follow on, every PID is flagged once, and time runs on past another engine’s clock', (t) => {
  const { sent, output, program } = played(3000);
  const after = splice(otherEngine(5, 90_000 * 3), 2500, output, program);
  const report = inspectTs(Buffer.concat([sent, after]));
  t.deepEqual(report.continuityErrors, [], 'no counter break');
  t.deepEqual(report.timestampJumps, [], 'no decode time runs back or leaps');
  t.deepEqual(report.pcrJumps, []);
  for (const pid of [0, PMT_PID, 256, 257])
    t.true((report.flaggedDiscontinuities.get(pid) ?? 0) >= 1, `PID ${pid} flagged`);
  // The new source starts with its tables, then a key frame.
  t.is(pidAt(after, 0) === 0 || pidAt(after, PACKET_SIZE) === 0, true);
  t.true(inspectTs(after).keyFrames.length > 0);
});

test('splice - the same tables keep the players’ version; tables naming other PIDs get the next one', (t) => {
  const { output, program } = played(3000);
  const had = sectionVersionAt(program.currentTables!.pmt[0]!, 0);
  const same = splice(otherEngine(0, 0), 2500, output, program);
  const pmtOf = (b: Buffer): number => {
    for (let at = 0; at < b.length; at += PACKET_SIZE)
      if (pidAt(b, at) === PMT_PID && unitStartAt(b, at)) return at;
    return -1;
  };
  t.is(sectionVersionAt(same, pmtOf(same)), had);

  // Another engine whose PMT says another PCR PID (and so differs): every PMT it sends gets version had + 1.
  const other = otherEngine(0, 0);
  for (let at = 0; at < other.length; at += PACKET_SIZE) {
    if (pidAt(other, at) !== PMT_PID || !unitStartAt(other, at)) continue;
    const section = at + 5 + other[at + 4]!;
    other[section + 9] = 0x01; // PCR PID 0x101 (the audio PID) instead of 0x100
    setSectionVersionAt(other, at, sectionVersionAt(other, at));
  }
  const { output: output2, program: program2 } = played(3000);
  const bumped = splice(other, 2500, output2, program2);
  const versions = new Set<number>();
  for (let at = 0; at < bumped.length; at += PACKET_SIZE) {
    if (pidAt(bumped, at) === PMT_PID && unitStartAt(bumped, at)) versions.add(sectionVersionAt(bumped, at));
  }
  t.deepEqual([...versions], [(had + 1) & 0x1f]);
  t.deepEqual(inspectTs(bumped).continuityErrors, []);
});

test('splice - a source whose window starts at its PAT (no key frame in time) sends its tables once, flagged', (t) => {
  const { sent, output, program } = played(3000);
  // The other engine's video never comes: after KEY_FRAME_WAIT_MS the switch starts at its last PAT.
  const other = otherEngine(5, 0);
  const noVideo = Buffer.concat(
    [...Array(other.length / PACKET_SIZE).keys()]
      .map((n) => other.subarray(n * PACKET_SIZE, (n + 1) * PACKET_SIZE))
      .filter((p) => pidAt(p, 0) !== 256),
  );
  const s = new Splice(new ProgramTracker(), output);
  const chunk = 64 * PACKET_SIZE;
  let at = 0;
  for (let now = 0; !s.ready && at < noVideo.length; at += chunk, now += 200)
    s.hold([Buffer.from(noVideo.subarray(at, at + chunk))], now);
  t.true(s.ready, 'the window starts at a PAT once the key frame wait is over');
  const after = Buffer.concat([...s.open(program), ...s.feed([Buffer.from(noVideo.subarray(at))])]);
  for (const pid of [0, PMT_PID]) {
    const counters: number[] = [];
    for (let p = 0; p < after.length; p += PACKET_SIZE)
      if (pidAt(after, p) === pid) counters.push(continuityAt(after, p));
    // A repeated counter is a duplicate packet: ffmpeg logs a continuity failure for it.
    t.deepEqual(
      counters.slice(0, 5),
      [0, 1, 2, 3, 4].map((n) => (counters[0]! + n) & 0x0f),
      `PID ${pid} goes out once per counter`,
    );
  }
  const report = inspectTs(Buffer.concat([sent, after]));
  t.deepEqual(
    report.continuityErrors.filter((e) => e.pid === 0 || e.pid === PMT_PID),
    [],
  );
  for (const pid of [0, PMT_PID])
    t.true((report.flaggedDiscontinuities.get(pid) ?? 0) >= 1, `PID ${pid} flagged`);
});
