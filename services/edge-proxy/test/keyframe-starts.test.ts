import test from 'ava';
import { buildSimulator, type Simulator } from '@acefleet/ace-sim';
import {
  PACKET_SIZE,
  discontinuityAt,
  hasPayloadAt,
  inspectTs,
  keyFrameAt,
  pidAt,
  unitStartAt,
} from '@acefleet/mpegts';
import { Player, metric, waitFor } from '@acefleet/testkit';
import { startProxy, type ProxyUnderTest } from './helpers.ts';

/**
 * Issue 17: a player's first bytes, and a lagging player's first bytes after a skip, decode at once: a PAT,
 * a PMT and a key frame, not the middle of a GOP. A skip flags its break on every PID first.
 */
let sim: Simulator;
let fast: Simulator;
let proxy: ProxyUnderTest;
let simUrl: string;
let fastUrl: string;

test.before(async () => {
  sim = buildSimulator({ burstSeconds: 2 });
  // A fast stream and a small window, so a short pause leaves a player behind the window.
  fast = buildSimulator({ bitrateBps: 40_000_000, burstSeconds: 0 });
  const urls = await Promise.all([sim, fast].map(async (s) => (await s.listen()).url));
  simUrl = urls[0]!;
  fastUrl = urls[1]!;
  proxy = await startProxy({ STATIC_ENGINES: simUrl });
});
test.after.always(async () => {
  await proxy?.close();
  await Promise.all([sim, fast].map((s) => s?.close()));
});

/** The PIDs of the packets at the start of `bytes` that only flag a discontinuity. */
function leadingFlags(bytes: Buffer, from: number): { pids: number[]; end: number } {
  const pids: number[] = [];
  let at = from;
  for (; at + PACKET_SIZE <= bytes.length; at += PACKET_SIZE) {
    if (!discontinuityAt(bytes, at) || hasPayloadAt(bytes, at)) break;
    pids.push(pidAt(bytes, at));
  }
  return { pids, end: at };
}

/** Offsets of the packets of `bytes` that carry a PAT flagged with discontinuity_indicator. */
function flaggedPats(bytes: Buffer): number[] {
  const out: number[] = [];
  for (let at = 0; at + PACKET_SIZE <= bytes.length; at += PACKET_SIZE) {
    if (pidAt(bytes, at) === 0 && discontinuityAt(bytes, at) && hasPayloadAt(bytes, at)) out.push(at);
  }
  return out;
}

test('proxy - a player joining a playing stream starts with a PAT, a PMT and a key frame', async (t) => {
  const url = `${proxy.url}/ace/getstream?id=${'b1'.repeat(20)}`;
  const first = await Player.playing(url, 400_000);
  const late = await Player.open(url, 200_000);
  await waitFor(() => late.bytes > 200_000, 10_000);
  const head = late.head;
  const report = inspectTs(head);
  t.is(pidAt(head, 0), 0, 'a PAT first');
  t.truthy(report.map);
  t.is(report.keyFrames[0], 2 * PACKET_SIZE, 'its PMT, then a key frame');
  t.deepEqual(report.continuityErrors, [], 'the tables sent first are the ones before the key frame');
  first.close();
  late.close();
});

test('proxy - a lagging player skipped forward lands on a key frame, behind a flagged break on every PID', async (t) => {
  // Only the fast engine: at the normal rate the kernel's socket buffers would hold the whole pause.
  const own = await startProxy({
    STATIC_ENGINES: fastUrl,
    RING_BYTES: String(1024 * 1024),
    MAX_CLIENT_BACKLOG_BYTES: String(256 * 1024),
    SLOW_CLIENT_TIMEOUT_MS: '30000',
  });
  t.teardown(() => own.close());
  const url = `${own.url}/ace/getstream?id=${'b2'.repeat(20)}`;
  const skips = async (): Promise<number> =>
    metric(await (await fetch(`${own.url}/metrics`)).text(), 'acefleet_proxy_slow_client_skips_total');
  const before = await skips();
  const lagging = await Player.open(url, 30_000_000);
  await waitFor(() => lagging.bytes > 1_000_000, 5_000);
  const keptBeforePause = lagging.bytes;
  lagging.pause();
  await waitFor(async () => (await skips()) > before, 15_000);
  lagging.resume();
  await waitFor(() => lagging.bytes > keptBeforePause + 8_000_000, 10_000);
  lagging.close();
  const body = lagging.head;
  // The first flag packet marks where the skip landed.
  let at = keptBeforePause - (keptBeforePause % PACKET_SIZE);
  while (at + PACKET_SIZE <= body.length && !(discontinuityAt(body, at) && !hasPayloadAt(body, at)))
    at += PACKET_SIZE;
  t.true(at + PACKET_SIZE <= body.length, 'the skip sent a flag packet');
  const { pids, end } = leadingFlags(body, at);
  const map = inspectTs(body).map!;
  // Other PIDs that go on after the jump (the SDT here) are flagged too; the PAT and PMT carry the flag
  // on their own copies (PSI decoders look at nothing else).
  t.deepEqual(
    map.streams.map((s) => s.pid).filter((pid) => !pids.includes(pid)),
    [],
    `flagged: ${pids.join(', ')}`,
  );
  t.is(pidAt(body, end), 0, 'then a PAT');
  t.true(discontinuityAt(body, end) && discontinuityAt(body, end + PACKET_SIZE), 'PAT and PMT flagged');
  const video = map.streams.find((s) => s.kind === 'video')!;
  const key = end + 2 * PACKET_SIZE;
  t.is(pidAt(body, key), video.pid, 'then the PMT, then video');
  t.true(unitStartAt(body, key) && keyFrameAt(body, key, video.codec), 'a key frame');
  // The engine's channel is continuous: every break the player sees is the skip's, and it is flagged.
  t.deepEqual(inspectTs(body).continuityErrors, []);
});

test('proxy - after a failover the new engine joins at its first key frame, every break flagged', async (t) => {
  const id = 'b3'.repeat(20);
  const other = buildSimulator({ burstSeconds: 2 });
  const otherUrl = (await other.listen()).url;
  const own = await startProxy({ STATIC_ENGINES: `${simUrl},${otherUrl}` });
  t.teardown(async () => {
    await own.close();
    await other.close();
  });
  const player = await Player.open(`${own.url}/ace/getstream?id=${id}`, 4_000_000);
  await waitFor(() => player.bytes > 400_000, 10_000);
  const victim = [sim, other].find((s) => s.stats().playbackReaders > 0)!;
  const before = player.bytes;
  victim.faults.setContent(id, { eofAfterMs: 1 });
  await waitFor(() => player.bytes > before + 1_000_000, 15_000);
  player.close();
  victim.faults.clearContent(id);
  const body = player.head;
  const report = inspectTs(body);
  t.deepEqual(report.continuityErrors, [], 'every continuity break is flagged');
  const [splice] = flaggedPats(body);
  t.truthy(splice, 'the new engine starts with a flagged PAT');
  const video = report.map!.streams.find((s) => s.kind === 'video')!;
  let at = splice! + PACKET_SIZE;
  while (pidAt(body, at) !== video.pid || !hasPayloadAt(body, at)) at += PACKET_SIZE;
  t.true(keyFrameAt(body, at, video.codec), "the new engine's first video is a key frame");
});
