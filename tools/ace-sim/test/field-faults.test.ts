import test from 'ava';
import {
  PACKET_SIZE,
  ProgramTracker,
  hasPayloadAt,
  inspectTs,
  keyFrameAt,
  pcrAt,
  pidAt,
  unitStartAt,
} from '@acefleet/mpegts';
import { Player, waitFor } from '@acefleet/testkit';
import type { Simulator } from '../src/index.ts';
import { CONTENT_ID, getJson, putJson, readBody, start, startSim, type Ace, type Stat } from './helpers.ts';

/** Four times the clip's bitrate: a GOP (1 s of channel) every 250 ms, so a frozen PID comes back soon. */
const BITRATE_BPS = 4 * 1_504_000;
const PER_SECOND = BITRATE_BPS / 8;

/**
 * A body that plays, then has `fault` switched on for its content for about a second, then off again, and
 * plays on: what the reader got, and the programme in it.
 */
async function freezeAndThaw(
  fault: 'frozenVideo' | 'frozenAudio',
): Promise<{ bytes: Buffer; sim: Simulator }> {
  const { sim, url } = await startSim({ bitrateBps: BITRATE_BPS, burstSeconds: 0.5 });
  const r = await start(url, `id=${CONTENT_ID}`);
  const player = await Player.open(r.playback_url, 64 * 1024 * 1024);
  try {
    await waitFor(() => player.bytes > PER_SECOND, 10_000);
    await putJson(`${url}/__sim/faults/content/${CONTENT_ID}`, { [fault]: true });
    const frozenAt = player.bytes;
    await waitFor(() => player.bytes > frozenAt + PER_SECOND, 10_000);
    await putJson(`${url}/__sim/faults/content/${CONTENT_ID}`, { [fault]: false });
    const thawedAt = player.bytes;
    await waitFor(() => player.bytes > thawedAt + PER_SECOND, 10_000);
    return { bytes: player.head.subarray(0, player.head.length - (player.head.length % PACKET_SIZE)), sim };
  } finally {
    player.close();
  }
}

interface Gap {
  /** Packets between the last payload of the PID before the gap and the first after it. */
  packets: number;
  from: number;
  to: number;
}

/** The longest run of packets in which the PIDs of `kind` carry no payload. */
function longestGap(bytes: Buffer, kind: 'video' | 'audio'): Gap & { pids: number[] } {
  const tracker = new ProgramTracker();
  tracker.scan(bytes, 0, PACKET_SIZE * 500);
  const pids = tracker.map!.streams.filter((s) => s.kind === kind).map((s) => s.pid);
  let best: Gap = { packets: 0, from: 0, to: 0 };
  let last = -1;
  for (let n = 0; n * PACKET_SIZE < bytes.length; n++) {
    const at = n * PACKET_SIZE;
    if (!pids.includes(pidAt(bytes, at)) || !hasPayloadAt(bytes, at)) continue;
    if (last >= 0 && n - last > best.packets) best = { packets: n - last, from: last, to: n };
    last = n;
  }
  return { ...best, pids };
}

const count = (bytes: Buffer, from: number, to: number, match: (at: number) => boolean): number => {
  let n = 0;
  for (let i = from; i < to; i++) if (match(i * PACKET_SIZE)) n++;
  return n;
};

test('frozenVideo - the video PID stops carrying payload while audio, PAT/PMT and the PCR go on, then resumes at a flagged key frame', async (t) => {
  const { bytes, sim } = await freezeAndThaw('frozenVideo');
  t.teardown(() => sim.close());
  const gap = longestGap(bytes, 'video');
  const [videoPid] = gap.pids;
  t.true(gap.packets > 0.8 * (PER_SECOND / PACKET_SIZE), `${gap.packets} packets without video`);
  const inGap = (match: (at: number) => boolean): number => count(bytes, gap.from + 1, gap.to, match);
  const audio = longestGap(bytes, 'audio');
  t.true(
    inGap((at) => audio.pids.includes(pidAt(bytes, at)) && hasPayloadAt(bytes, at)) > 50,
    'audio goes on',
  );
  t.true(inGap((at) => pidAt(bytes, at) === 0) > 5, 'PAT goes on');
  t.true(
    inGap((at) => pidAt(bytes, at) === videoPid && pcrAt(bytes, at) !== undefined) > gap.packets / 40,
    'the PCR goes on, on the video PID',
  );
  const resumed = gap.to * PACKET_SIZE;
  t.true(
    unitStartAt(bytes, resumed) && keyFrameAt(bytes, resumed, 'h264'),
    'video comes back at a key frame',
  );
  const report = inspectTs(bytes);
  t.deepEqual(report.continuityErrors, [], 'no unannounced counter break');
  t.deepEqual(report.pcrJumps, [], 'the clock never stopped');
  t.deepEqual([...report.flaggedDiscontinuities], [[videoPid, 1]], 'one flagged break, on video');
  t.deepEqual(report.timestampJumps, []);
});

test('frozenAudio - the audio PID stops carrying payload while video goes on, then resumes at a flagged PES start', async (t) => {
  const { bytes, sim } = await freezeAndThaw('frozenAudio');
  t.teardown(() => sim.close());
  const gap = longestGap(bytes, 'audio');
  t.true(gap.packets > 0.8 * (PER_SECOND / PACKET_SIZE), `${gap.packets} packets without audio`);
  const video = longestGap(bytes, 'video');
  t.true(video.packets < 0.3 * (PER_SECOND / PACKET_SIZE), 'video never stops for long');
  t.true(unitStartAt(bytes, gap.to * PACKET_SIZE), 'audio comes back at a PES start');
  const report = inspectTs(bytes);
  t.deepEqual(report.continuityErrors, []);
  t.deepEqual(report.pcrJumps, []);
  t.deepEqual([...report.flaggedDiscontinuities], [[gap.pids[0]!, 1]]);
  t.deepEqual(report.timestampJumps, []);
});

test('cutAfterMs - the engine ends the session: the body ends and stat answers unknown; eofAfterMs ends only the body', async (t) => {
  const { sim, url } = await startSim({ burstSeconds: 0.5 });
  t.teardown(() => sim.close());
  await putJson(`${url}/__sim/faults`, { cutAfterMs: 400 });
  const cut = await start(url, `id=${CONTENT_ID}&pid=cut`);
  const body = await readBody(cut.playback_url, 5000);
  t.is(body.ended, 'end');
  t.true(body.bytes.length > 0);
  t.deepEqual(await getJson(cut.stat_url), { response: null, error: 'unknown playback session id' });
  t.like(
    sim.stats().sessions.find((s) => s.pid === 'cut'),
    { endReason: 'cut' },
  );

  await putJson(`${url}/__sim/faults?mode=replace`, { eofAfterMs: 400 });
  const eof = await start(url, `id=${CONTENT_ID}&pid=eof`);
  t.is((await readBody(eof.playback_url, 5000)).ended, 'end');
  t.like(await getJson<Ace<Stat>>(eof.stat_url), { error: null }, 'the session lives on');
  await putJson(`${url}/__sim/faults?mode=replace`, {});
  const again = await readBody(eof.playback_url, 500);
  t.true(again.bytes.length > 0, 'and plays again');
});

test('slowBody - the body comes at the given kbit/s, still a seamless channel, and stat says so', async (t) => {
  const { sim, url } = await startSim({ burstSeconds: 0, faults: { slowBody: 400 } });
  t.teardown(() => sim.close());
  const r = await start(url, `id=${CONTENT_ID}`);
  const body = await readBody(r.playback_url, 2000);
  const expected = (400_000 / 8) * 2;
  t.true(
    Math.abs(body.bytes.length - expected) < expected * 0.2,
    `${body.bytes.length} bytes vs ${expected}`,
  );
  const report = inspectTs(body.bytes);
  t.deepEqual([report.continuityErrors, report.timestampJumps], [[], []]);
  t.like(await getJson<Ace<Stat>>(r.stat_url), { response: { speed_down: Math.round(400_000 / 8 / 1024) } });
});

test('the new faults come from --fault and ACE_SIM_FAULT_*, and refuse bad values', async (t) => {
  const { parseConfig } = await import('../src/config.ts');
  t.like(parseConfig(['--fault', 'frozenVideo', '--fault=slowBody=300'], {}).sim.faults, {
    frozenVideo: true,
    slowBody: 300,
  });
  t.like(
    parseConfig([], { ACE_SIM_FAULT_FROZEN_AUDIO: '1', ACE_SIM_FAULT_CUT_AFTER_MS: '900000' }).sim.faults,
    { frozenAudio: true, cutAfterMs: 900_000 },
  );
  t.throws(() => parseConfig(['--fault', 'slowBody=fast'], {}), { message: /slowBody must be a number/ });
  const { sim, url } = await startSim();
  t.teardown(() => sim.close());
  t.like(await putJson(`${url}/__sim/faults`, { frozenVideo: 'yes' }), { error: { code: 'BAD_FAULT' } });
  t.like(await putJson(`${url}/__sim/faults`, { cutAfterMs: -1 }), { error: { code: 'BAD_FAULT' } });
});
