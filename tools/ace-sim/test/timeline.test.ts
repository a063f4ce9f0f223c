import test from 'ava';
import {
  PACKET_SIZE,
  TIMESTAMP_WRAP,
  inspectTs,
  pcrAt,
  timestampDelta,
  wrapTimestamp,
} from '@acefleet/mpegts';
import { encodeClip } from '@acefleet/testkit';
import { buildSimulator, infohashOfContentId, type Simulator } from '../src/index.ts';
import { CONTENT_ID, backwardSteps, ffprobeVideoDts, readBody, start, startSim } from './helpers.ts';

/** The clip's own bitrate: the channel plays in real time. */
const REAL_TIME_BPS = 1_504_000;

/** A break-free report: no counter, timestamp or PCR break anywhere in `bytes`. */
function breaks(bytes: Buffer): Record<string, unknown> {
  const r = inspectTs(bytes);
  return {
    syncErrors: r.syncErrors,
    continuityErrors: r.continuityErrors.slice(0, 5),
    timestampJumps: r.timestampJumps.slice(0, 5),
    pcrJumps: r.pcrJumps.slice(0, 5),
    flagged: r.flaggedDiscontinuities.size,
  };
}
const NO_BREAK = { syncErrors: 0, continuityErrors: [], timestampJumps: [], pcrJumps: [], flagged: 0 };

function pcrsOf(bytes: Buffer): number[] {
  const out: number[] = [];
  for (let at = 0; at + PACKET_SIZE <= bytes.length; at += PACKET_SIZE) {
    const pcr = pcrAt(bytes, at);
    if (pcr !== undefined) out.push(pcr);
  }
  return out;
}

/**
 * A clock offset that puts CONTENT_ID's live edge just before a point of its timeline, found with a probe
 * simulator: `target(ticksNow)` names that point (unwrapped 90 kHz ticks) from where the channel is now.
 * Also returns the point as the PCR will show it (modulo 2^33).
 */
async function offsetTo(
  bitrateBps: number,
  target: (ticksNow: number) => number,
): Promise<{ clockOffsetMs: number; pcr: number }> {
  const { sim } = await startSim({ bitrateBps });
  try {
    const tl = sim.timeline;
    const ticksPerPacket = tl.loopTicks / tl.loopPackets;
    const ticksNow = tl.livePacket(tl.phaseOf(infohashOfContentId(CONTENT_ID))) * ticksPerPacket;
    const ticks = target(ticksNow);
    return {
      clockOffsetMs: (ticks - ticksNow) / ticksPerPacket / tl.packetsPerMs,
      pcr: wrapTimestamp(ticks),
    };
  } finally {
    await sim.close();
  }
}

/** Index of the first and of the last packet with a PCR in `bytes`. */
function firstPcrPacket(bytes: Buffer): number {
  for (let at = 0; at < bytes.length; at += PACKET_SIZE) {
    if (pcrAt(bytes, at) !== undefined) return at / PACKET_SIZE;
  }
  return -1;
}
function lastPcrPacket(bytes: Buffer): number {
  for (let at = bytes.length - PACKET_SIZE; at >= 0; at -= PACKET_SIZE) {
    if (pcrAt(bytes, at) !== undefined) return at / PACKET_SIZE;
  }
  return -1;
}

test('playback - over 40 s of channel, across loop seams, ffprobe sees video DTS only go forward and inspectTs no break', async (t) => {
  // Ten times the clip's bitrate runs the channel ten times faster: 40 s of it in about 4 s.
  const { sim, url } = await startSim({ bitrateBps: 10 * REAL_TIME_BPS, burstSeconds: 0.5 });
  t.teardown(() => sim.close());
  const [probed, body] = await Promise.all([
    start(url, `id=${CONTENT_ID}&pid=probe`).then((r) => ffprobeVideoDts(r.playback_url, 40)),
    start(url, `id=${CONTENT_ID}&pid=inspect`).then((r) => readBody(r.playback_url, 4500)),
  ]);
  t.true(probed.length >= 39 * 25, `${probed.length} video packets`);
  t.deepEqual(backwardSteps(probed).slice(0, 5), [], 'DTS never goes back');
  t.true(probed.at(-1)! - probed[0]! >= 39, `${probed.at(-1)! - probed[0]!} s of DTS`);
  t.deepEqual(breaks(body.bytes), NO_BREAK);
  const report = inspectTs(body.bytes);
  const span = timestampDelta(
    [...report.lastTimestamp.values()][0]!,
    [...report.firstTimestamp.values()][0]!,
  );
  t.true(span > 3 * sim.timeline.loopTicks, `${span / 90_000} s of channel: more than three loops`);
  t.true(report.keyFrames.length >= 36, `${report.keyFrames.length} key frames, one a second`);
  t.true(sim.timeline.renderedLoops <= 8, `${sim.timeline.renderedLoops} loops rendered for two readers`);
});

test('playback - a loop seam in real time: the burst then the live rate, no break, the PCR moves into the next loop', async (t) => {
  // The seam falls 1.5 s after the live edge; the reader gets a 1 s burst and reads 3.5 s.
  const D = 1_080_000;
  const live = await offsetTo(REAL_TIME_BPS, (now) => Math.ceil(now / D) * D + D - 1.5 * 90_000);
  const seam = { pcr: wrapTimestamp(live.pcr + 1.5 * 90_000) };
  const { sim, url } = await startSim({ clockOffsetMs: live.clockOffsetMs, burstSeconds: 1 });
  t.teardown(() => sim.close());
  t.is(sim.timeline.loopTicks, D, 'the clip lasts 12 s');
  const r = await start(url, `id=${CONTENT_ID}`);
  const body = await readBody(r.playback_url, 3500);
  t.deepEqual(breaks(body.bytes), NO_BREAK);
  const pcrs = pcrsOf(body.bytes);
  t.true(
    timestampDelta(seam.pcr, pcrs[0]!) > 0 && timestampDelta(pcrs.at(-1)!, seam.pcr) > 0,
    `PCRs ${pcrs[0]} to ${pcrs.at(-1)} run past the seam at ${seam.pcr}`,
  );
  // 1 s of burst, then 3.5 s at 188 000 B/s; PCR and arrival agree: 90 ticks a packet.
  const expected = 4.5 * (REAL_TIME_BPS / 8);
  t.true(
    Math.abs(body.bytes.length - expected) < expected * 0.15,
    `${body.bytes.length} bytes vs ${expected}`,
  );
  const packets = lastPcrPacket(body.bytes) - firstPcrPacket(body.bytes);
  t.is(timestampDelta(pcrs.at(-1)!, pcrs[0]!), packets * 90);
});

test('playback - timestamps wrap at 2^33 with no break, and ffprobe reads on across the wrap', async (t) => {
  // Ten times faster, the live edge 2 s of channel past the wrap; a 5 s burst starts 50 s of channel earlier,
  // so the reads start before the wrap even if getting to them takes a loaded machine 4 s.
  const bitrateBps = 10 * REAL_TIME_BPS;
  const live = await offsetTo(
    bitrateBps,
    (now) => Math.ceil(now / TIMESTAMP_WRAP) * TIMESTAMP_WRAP + 2 * 90_000,
  );
  const { sim, url } = await startSim({ bitrateBps, clockOffsetMs: live.clockOffsetMs, burstSeconds: 5 });
  t.teardown(() => sim.close());
  const [probed, body] = await Promise.all([
    start(url, `id=${CONTENT_ID}&pid=probe`).then((r) => ffprobeVideoDts(r.playback_url, 60)),
    start(url, `id=${CONTENT_ID}&pid=inspect`).then((r) => readBody(r.playback_url, 1000)),
  ]);
  t.deepEqual(breaks(body.bytes), NO_BREAK);
  const pcrs = pcrsOf(body.bytes);
  const wrapAt = pcrs.findIndex((p, i) => i > 0 && p < pcrs[i - 1]!);
  t.true(wrapAt > 0, 'the PCR wrapped');
  t.true(pcrs[wrapAt - 1]! > TIMESTAMP_WRAP - 90_000 && pcrs[wrapAt]! < 90_000, 'at 2^33');
  t.true(probed.length >= 59 * 25, `${probed.length} video packets`);
  t.deepEqual(backwardSteps(probed).slice(0, 5), [], 'DTS never goes back');
  // Starting this close to the wrap, libavformat counts the timestamps before it as negative.
  t.true(probed[0]! < 0 && probed.at(-1)! > 0, `DTS from ${probed[0]} to ${probed.at(-1)} s`);
});

test('playback - two engines playing one channel send the same packets at the same moment', async (t) => {
  const engines: Simulator[] = [];
  t.teardown(() => Promise.all(engines.map((s) => s.close())));
  const bodies = await Promise.all(
    [0, 1].map(async () => {
      const { sim, url } = await startSim({ burstSeconds: 1 });
      engines.push(sim);
      const r = await start(url, `id=${CONTENT_ID}`);
      return (await readBody(r.playback_url, 1500)).bytes;
    }),
  );
  // A PCR-carrying packet of the first body, found byte for byte in the second.
  const [a, b] = bodies as [Buffer, Buffer];
  const middle = lastPcrPacket(a.subarray(0, Math.floor(a.length / 2 / PACKET_SIZE) * PACKET_SIZE));
  const packet = a.subarray(middle * PACKET_SIZE, (middle + 1) * PACKET_SIZE);
  const found = b.indexOf(packet);
  t.true(found >= 0 && found % PACKET_SIZE === 0, 'the same packet, counter and PCR included');
  const tail = Math.min(a.length - middle * PACKET_SIZE, b.length - found);
  t.true(
    a
      .subarray(middle * PACKET_SIZE)
      .subarray(0, tail)
      .equals(b.subarray(found, found + tail)),
  );
  t.true(Math.abs(found - middle * PACKET_SIZE) < 0.3 * (REAL_TIME_BPS / 8), 'at about the same offset');
});

test('playback - a radio channel (audio only) and a clip with other PIDs loop as seamlessly', async (t) => {
  for (const opts of [
    { seconds: 6, video: false },
    { seconds: 6, pids: { video: 0x300, audio: 0x301 } },
  ]) {
    const clip = await encodeClip(opts);
    t.teardown(clip.remove);
    const probe = buildSimulator({ mediaPath: clip.path });
    const clipBps = probe.settings.bitrateBps;
    await probe.close();
    // Ten times faster: 2 s of reading hold more than three loops of 6 s.
    const { sim, url } = await startSim({
      mediaPath: clip.path,
      bitrateBps: 10 * clipBps,
      burstSeconds: 0.5,
    });
    t.teardown(() => sim.close());
    t.is(sim.timeline.loopTicks, 6 * 90_000, JSON.stringify(opts));
    const r = await start(url, `id=${CONTENT_ID}`);
    const body = await readBody(r.playback_url, 2000);
    t.deepEqual(breaks(body.bytes), NO_BREAK, JSON.stringify(opts));
    const pcrs = pcrsOf(body.bytes);
    t.true(timestampDelta(pcrs.at(-1)!, pcrs[0]!) > 3 * 6 * 90_000, `${JSON.stringify(opts)}: three loops`);
  }
});
